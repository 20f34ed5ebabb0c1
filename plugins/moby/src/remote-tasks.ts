// Docker Swarm tasks that run on ANOTHER node than this manager's: this daemon does not have
// their containers, so they are listed from `/tasks` and read through the swarm's log broker
// (`/tasks/{id}/logs`). Each is described as its container would be (ID, Docker's name, the
// swarm labels, the node's hostname), so that `service=NAME` selects it like a local task.
import {
  ContainerNotFoundError,
  SWARM_LABELS,
  parseRfc3339,
  type ContainerInfo,
  type ContainerRunState,
} from '@enginegate/plugin-api';
import type { DockerClient } from './docker-client.js';
import { httpStatusOf } from './docker-errors.js';
import { SwarmDirectory } from './swarm-directory.js';

/** A task on another node, as this plugin lists and reads it. */
export interface RemoteTask {
  taskId: string;
  info: ContainerInfo;
  /** The log driver the task's spec names (the node's default, json-file here, when none). */
  logDriver: string;
}

/** Task states after which a task never runs again. */
const TERMINAL_STATES = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

/** The Engine API's task JSON, as far as this module reads it (Docker 20.10, API 1.41). */
interface EngineTask {
  ID: string;
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  CreatedAt?: string;
  Spec?: {
    ContainerSpec?: { Image?: string; Labels?: Record<string, string>; TTY?: boolean };
    LogDriver?: { Name?: string };
  };
  Status?: {
    Timestamp?: string;
    State?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}
interface EngineService {
  ID: string;
  Spec?: { Name?: string };
}
interface EngineNode {
  ID: string;
  Description?: { Hostname?: string };
}

/**
 * On a swarm manager, every task with a container on another node (history included); on any
 * other daemon none (only a manager sees the swarm's tasks).
 */
export async function remoteTasks(client: DockerClient, signal?: AbortSignal): Promise<RemoteTask[]> {
  const local = await new SwarmDirectory(client).local(signal);
  if (local.role !== 'manager') return [];
  const [services, tasks, nodes] = (await client.swarmLists(signal)) as [EngineService[], EngineTask[], EngineNode[]];
  const serviceNames = new Map(services.map((s) => [s.ID, s.Spec?.Name ?? s.ID]));
  const hostnames = new Map(nodes.map((n) => [n.ID, n.Description?.Hostname ?? n.ID]));
  return tasks
    .filter((task) => task.NodeID !== local.nodeId && task.Status?.ContainerStatus?.ContainerID)
    .map((task) => toRemoteTask(task, serviceNames.get(task.ServiceID) ?? task.ServiceID, hostnames));
}

function toRemoteTask(task: EngineTask, serviceName: string, hostnames: Map<string, string>): RemoteTask {
  const nodeId = task.NodeID ?? '';
  const state = task.Status?.State ?? 'unknown';
  const spec = task.Spec?.ContainerSpec ?? {};
  // Docker names a task's container `web.1.<task id>` (`web.<node id>.<task id>` when global).
  const taskName = `${serviceName}.${task.Slot !== undefined && task.Slot > 0 ? task.Slot : nodeId}.${task.ID}`;
  return {
    taskId: task.ID,
    logDriver: task.Spec?.LogDriver?.Name ?? 'json-file',
    info: {
      id: task.Status!.ContainerStatus!.ContainerID!,
      names: [taskName],
      image: spec.Image ?? '',
      state: state === 'running' ? 'running' : TERMINAL_STATES.has(state) ? 'exited' : 'created',
      tty: spec.TTY === true,
      createdAt: task.CreatedAt ?? '',
      labels: {
        ...spec.Labels,
        [SWARM_LABELS.serviceId]: task.ServiceID,
        [SWARM_LABELS.serviceName]: serviceName,
        [SWARM_LABELS.taskId]: task.ID,
        [SWARM_LABELS.taskName]: taskName,
        [SWARM_LABELS.nodeId]: nodeId,
      },
      node: hostnames.get(nodeId) ?? nodeId,
    },
  };
}

/**
 * The remote task a reference names, as `docker logs` would find its container: full container
 * ID, name, then a unique ID prefix. ContainerNotFoundError when none (or several) match.
 */
export async function findRemoteTask(client: DockerClient, ref: string, signal?: AbortSignal): Promise<RemoteTask> {
  const tasks = await remoteTasks(client, signal);
  const exact = tasks.filter((t) => t.info.id === ref || t.info.names.includes(ref));
  const found = exact.length > 0 ? exact : tasks.filter((t) => t.info.id.startsWith(ref));
  if (found.length !== 1) throw new ContainerNotFoundError(ref);
  return found[0]!;
}

/** A task's run state (`GET /tasks/{id}`), as containerEnding reads a container's. */
export async function taskRunState(
  client: DockerClient,
  taskId: string,
  signal?: AbortSignal,
): Promise<ContainerRunState | 'removed'> {
  let task: EngineTask;
  try {
    task = (await client.inspectTask(taskId, signal)) as EngineTask;
  } catch (err) {
    if (httpStatusOf(err) === 404) return 'removed';
    throw err;
  }
  const state = task.Status?.State ?? 'unknown';
  const ended = TERMINAL_STATES.has(state);
  return {
    running: !ended,
    neverStarted: state === 'rejected',
    exitCode: task.Status?.ContainerStatus?.ExitCode ?? 0,
    finishedAt: ended && task.Status?.Timestamp ? parseRfc3339(task.Status.Timestamp) : undefined,
  };
}
