import type { PassthroughEndpoint } from '@enginegate/plugin-api';
import type { DockerClient } from './docker-client.js';

/** What this daemon is in a swarm: a manager answers for the whole swarm, a worker only for itself. */
export type SwarmRole = 'manager' | 'worker' | 'none';

/** One task of a service, as `docker service ps` shows it (history included). */
export interface SwarmTask {
  id: string;
  /** `web.1` for a replicated service's slot 1, `web.<node id>` for a global service. */
  name: string;
  slot?: number;
  nodeId: string;
  /** The node's hostname, as `docker service logs` names it after `@`. */
  node: string;
  /** Docker's word: `new` … `running`, `complete`, `failed`, `shutdown`, `rejected`, … */
  state: string;
  desiredState: string;
  /** The task's container, once it has one (on the node that runs it). */
  containerId?: string;
  exitCode?: number;
  error?: string;
  /** RFC3339: when the task reached its state. */
  since: string;
}

export interface SwarmService {
  id: string;
  name: string;
  image: string;
  mode: 'replicated' | 'global' | 'other';
  /** Wanted replicas of a replicated service. */
  replicas?: number;
  labels: Record<string, string>;
  createdAt: string;
  /** Newest first within a slot, as `docker service ps` lists them. */
  tasks: SwarmTask[];
}

export interface SwarmView {
  role: SwarmRole;
  /** This daemon's node (undefined outside a swarm). */
  nodeId?: string;
  /** This daemon's hostname (the node name `docker service logs` prints for its tasks). */
  hostname: string;
  /** Services and their tasks; empty unless `role` is `manager` (only managers can list them). */
  services: SwarmService[];
}

/** The Engine API's JSON, as far as this plugin reads it (Docker 20.10, API 1.41). */
interface EngineInfo {
  Name?: string;
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string };
}
interface EngineTask {
  ID: string;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  DesiredState?: string;
  Status?: {
    Timestamp?: string;
    State?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}
interface EngineService {
  ID: string;
  CreatedAt?: string;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string>;
    TaskTemplate?: { ContainerSpec?: { Image?: string } };
    Mode?: { Replicated?: { Replicas?: number }; Global?: object };
  };
}
interface EngineNode {
  ID: string;
  Description?: { Hostname?: string };
}

/** Reads swarm state (role, services, tasks, nodes) from a Docker daemon. */
export class SwarmDirectory {
  constructor(private readonly client: DockerClient) {}

  /** Role and hostname of this daemon, from one `GET /info`. */
  async local(signal?: AbortSignal): Promise<Omit<SwarmView, 'services'>> {
    const info = (await this.client.info(signal)) as EngineInfo;
    const swarm = info.Swarm;
    const role: SwarmRole =
      swarm?.LocalNodeState !== 'active' ? 'none' : swarm.ControlAvailable === true ? 'manager' : 'worker';
    return {
      role,
      hostname: info.Name ?? '',
      ...(role !== 'none' && swarm?.NodeID ? { nodeId: swarm.NodeID } : {}),
    };
  }

  /** Everything `enginegate ps --services` shows: on a manager, every service with its tasks. */
  async view(signal?: AbortSignal): Promise<SwarmView> {
    const local = await this.local(signal);
    if (local.role !== 'manager') return { ...local, services: [] };
    const [services, tasks, nodes] = (await this.client.swarmLists(signal)) as [
      EngineService[],
      EngineTask[],
      EngineNode[],
    ];
    const hostnames = new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
    const listed = services.map((service) => toService(service, tasks, hostnames));
    return { ...local, services: listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) };
  }
}

function toService(service: EngineService, tasks: EngineTask[], hostnames: Map<string, string>): SwarmService {
  const spec = service.Spec ?? {};
  const name = spec.Name ?? service.ID;
  const mode = spec.Mode?.Replicated ? 'replicated' : spec.Mode?.Global ? 'global' : 'other';
  const own = tasks
    .filter((task) => task.ServiceID === service.ID)
    .map((task) => toTask(task, name, hostnames))
    .sort(bySlotThenNewest);
  return {
    id: service.ID,
    name,
    image: spec.TaskTemplate?.ContainerSpec?.Image ?? '',
    mode,
    ...(mode === 'replicated' ? { replicas: spec.Mode?.Replicated?.Replicas ?? 0 } : {}),
    labels: spec.Labels ?? {},
    createdAt: service.CreatedAt ?? '',
    tasks: own,
  };
}

function toTask(task: EngineTask, serviceName: string, hostnames: Map<string, string>): SwarmTask {
  const nodeId = task.NodeID ?? '';
  const status = task.Status ?? {};
  const container = status.ContainerStatus;
  const terminal = ['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove'].includes(status.State ?? '');
  return {
    id: task.ID,
    name: task.Slot !== undefined && task.Slot > 0 ? `${serviceName}.${task.Slot}` : `${serviceName}.${nodeId}`,
    ...(task.Slot !== undefined && task.Slot > 0 ? { slot: task.Slot } : {}),
    nodeId,
    node: hostnames.get(nodeId) ?? nodeId,
    state: status.State ?? 'unknown',
    desiredState: task.DesiredState ?? 'unknown',
    ...(container?.ContainerID ? { containerId: container.ContainerID } : {}),
    ...(terminal && container?.ExitCode !== undefined ? { exitCode: container.ExitCode } : {}),
    ...(status.Err ? { error: status.Err } : {}),
    since: status.Timestamp ?? '',
  };
}

function bySlotThenNewest(a: SwarmTask, b: SwarmTask): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.since > b.since ? -1 : a.since < b.since ? 1 : 0;
}

/** `GET /passthrough/moby/services`: the SwarmView of the engine's daemon. */
export function servicesEndpoint(
  client: () => DockerClient,
  engineError: (err: unknown) => Error,
): PassthroughEndpoint {
  return {
    controller: 'moby',
    endpoint: 'services',
    handler: async () => {
      try {
        return await new SwarmDirectory(client()).view();
      } catch (err) {
        throw engineError(err);
      }
    },
  };
}

/** This daemon's hostname, the node name of its swarm tasks: asked once per connection. */
export class LocalNodeName {
  private asked: { client: DockerClient; name: Promise<string> } | undefined;

  of(client: DockerClient): Promise<string> {
    if (this.asked?.client !== client) {
      const name = new SwarmDirectory(client).local().then((local) => local.hostname);
      // A failed ask is asked again next time.
      name.catch(() => (this.asked = undefined));
      this.asked = { client, name };
    }
    return this.asked.name;
  }
}
