import {
  EngineUnavailableError,
  formatTimestamp,
  type ContainerInfo,
  type Engine,
  type EngineHealth,
  type LogSource,
  type PluginLogger,
} from '@enginegate/plugin-api';
import { ContainerdClient, type ContainerdContainer, type ContainerdTask } from './containerd-client.js';
import { ContainerdLogSource, type ContainerdConnection } from './containerd-log-source.js';
import { ContainerResolver, containerNames } from './container-resolver.js';
import { LogRoots } from './log-roots.js';
import type { ContainerdPluginConfig } from './plugin-config.js';
import { TaskExitMonitor } from './task-exit-monitor.js';

export interface ContainerdEngineOptions {
  config: ContainerdPluginConfig;
  logger: PluginLogger;
  reportHealth: (health: EngineHealth) => void;
}

const HEALTH_TIMEOUT_MS = 2_000;

/**
 * The containerd engine: one gRPC channel and one shared event subscription while started;
 * logs come from the files containerd's clients (nerdctl, the CRI plugin, `ctr --log-uri`)
 * write, found through the container's metadata.
 */
export class ContainerdEngine implements Engine {
  readonly name = 'containerd' as const;
  readonly logs: LogSource;
  private readonly logSource: ContainerdLogSource;
  private readonly roots: LogRoots;
  private connection: ContainerdConnection | null = null;

  constructor(private readonly o: ContainerdEngineOptions) {
    this.roots = new LogRoots(o.config.logRoots, o.logger);
    this.logSource = new ContainerdLogSource(() => this.requireConnection(), this.roots, o.config, o.logger);
    this.logs = this.logSource;
  }

  get address(): string {
    return this.o.config.address;
  }

  /** Open log streams, event subscriptions and task watches: what a leak check counts. */
  get resources(): { openStreams: number; subscriptions: number; taskWatches: number } {
    return {
      openStreams: this.logSource.openStreams,
      subscriptions: this.connection?.monitor.subscriptionCount ?? 0,
      taskWatches: this.connection?.monitor.watchCount ?? 0,
    };
  }

  async start(): Promise<void> {
    const fresh = !this.connection;
    if (!this.connection) {
      const client = new ContainerdClient(this.o.config.address, { protoDir: this.o.config.protoDir });
      const monitor = new TaskExitMonitor(client, this.o.logger, (health) => this.o.reportHealth(health));
      this.connection = { client, monitor };
    }
    const { client, monitor } = this.connection;
    try {
      const { version } = await client.getVersion(HEALTH_TIMEOUT_MS);
      this.o.logger.info({ address: this.address, version }, 'connected to containerd');
    } catch (err) {
      // A first start leaves nothing half-open behind. A running engine whose daemon went away
      // keeps its connection: the channel reconnects and the monitor resubscribes by itself.
      if (fresh) this.teardown();
      throw err instanceof EngineUnavailableError
        ? err
        : new EngineUnavailableError(`containerd at ${this.address} did not answer: ${(err as Error).message}`, {
            cause: err,
          });
    }
    monitor.start();
  }

  async stop(): Promise<void> {
    this.logSource.closeAll();
    this.teardown();
  }

  async health(): Promise<EngineHealth> {
    if (!this.connection) return { ok: false, message: 'the containerd engine is not started' };
    try {
      await this.connection.client.getVersion(HEALTH_TIMEOUT_MS);
      return { ok: true };
    } catch (err) {
      return { ok: false, message: (err as Error).message };
    }
  }

  async containers(options?: { namespace?: string }): Promise<ContainerInfo[]> {
    const { client } = this.requireConnection();
    const namespaces = await new ContainerResolver(client).namespaces(options?.namespace);
    const perNamespace = await Promise.all(
      namespaces.map(async (ns) => {
        const [containers, tasks] = await Promise.all([client.listContainers(ns), client.listTasks(ns)]);
        const taskById = new Map(tasks.map((t) => [t.containerId, t]));
        return containers.map((c) => toContainerInfo(c, taskById.get(c.id)));
      }),
    );
    return perNamespace
      .flat()
      .sort((a, b) => (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.id.localeCompare(b.id));
  }

  private requireConnection(): ContainerdConnection {
    if (!this.connection) throw new EngineUnavailableError('the containerd engine is not started');
    return this.connection;
  }

  private teardown(): void {
    const connection = this.connection;
    this.connection = null;
    connection?.monitor.stop();
    connection?.client.close();
  }
}

const TASK_STATE: Record<string, string> = {
  CREATED: 'created',
  RUNNING: 'running',
  STOPPED: 'exited',
  PAUSED: 'paused',
  PAUSING: 'paused',
  UNKNOWN: 'unknown',
};

function toContainerInfo(container: ContainerdContainer, task: ContainerdTask | undefined): ContainerInfo {
  return {
    id: container.id,
    names: containerNames(container),
    namespace: container.namespace,
    image: container.image,
    // No task: created and never started, or its task was deleted after it exited.
    state: task ? (TASK_STATE[task.status] ?? 'unknown') : 'created',
    tty: task?.terminal ?? specWantsTerminal(container),
    createdAt: container.createdAt !== null ? formatTimestamp(container.createdAt) : '',
    labels: container.labels,
  };
}

/** `process.terminal` of the OCI spec, which containerd stores as JSON inside an Any. */
function specWantsTerminal(container: ContainerdContainer): boolean {
  if (!container.spec?.value?.length) return false;
  try {
    const spec = JSON.parse(container.spec.value.toString('utf8')) as { process?: { terminal?: unknown } } | null;
    return spec?.process?.terminal === true;
  } catch {
    return false;
  }
}
