import {
  EngineUnavailableError,
  type ContainerEvent,
  type ContainerInfo,
  type Engine,
  type EngineHealth,
  type LogSource,
  type PluginLogger,
} from '@enginegate/plugin-api';
import { ContainerdClient } from './containerd-client.js';
import { TASK_EXIT_TOPIC } from './containerd-messages.js';
import { CONTAINER_EVENT_TOPICS, ContainerdEvents } from './containerd-events.js';
import { ContainerdLogSource, type ContainerdConnection } from './containerd-log-source.js';
import { toContainerInfo } from './container-info.js';
import { ContainerResolver } from './container-resolver.js';
import { EventSubscription } from './event-subscription.js';
import { LogRoots } from './log-roots.js';
import type { ContainerdPluginConfig } from './plugin-config.js';
import { TaskExitMonitor } from './task-exit-monitor.js';

export interface ContainerdEngineOptions {
  config: ContainerdPluginConfig;
  logger: PluginLogger;
  reportHealth: (health: EngineHealth) => void;
}

const HEALTH_TIMEOUT_MS = 2_000;

interface Connection extends ContainerdConnection {
  subscription: EventSubscription;
  events: ContainerdEvents;
}

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
  private connection: Connection | null = null;

  constructor(private readonly o: ContainerdEngineOptions) {
    this.roots = new LogRoots(o.config.logRoots, o.logger);
    this.logSource = new ContainerdLogSource(() => this.requireConnection(), this.roots, o.config, o.logger);
    this.logs = this.logSource;
  }

  get address(): string {
    return this.o.config.address;
  }

  /**
   * Open log streams, event subscriptions (to containerd), task watches and `events()` iterables:
   * what a leak check counts.
   */
  get resources(): { openStreams: number; subscriptions: number; taskWatches: number; eventStreams: number } {
    return {
      openStreams: this.logSource.openStreams,
      subscriptions: this.connection?.subscription.subscriptionCount ?? 0,
      taskWatches: this.connection?.monitor.watchCount ?? 0,
      eventStreams: this.connection?.events.subscriberCount ?? 0,
    };
  }

  async start(): Promise<void> {
    const fresh = !this.connection;
    this.connection ??= this.connect();
    const { client, subscription, monitor } = this.connection;
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
    subscription.start();
  }

  /**
   * containerd's own events (every namespace but Docker's), from the engine's one subscription;
   * resolves once it is live. See `ContainerdEvents`.
   */
  async events(signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>> {
    return this.requireConnection().events.open(signal);
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

  /** The client, and one event subscription shared by the task-exit monitor and `events()`. */
  private connect(): Connection {
    const { config, logger } = this.o;
    const client = new ContainerdClient(config.address, { protoDir: config.protoDir });
    const topics = [...new Set([TASK_EXIT_TOPIC, ...CONTAINER_EVENT_TOPICS])];
    const subscription = new EventSubscription(client, topics, logger, (h) => this.o.reportHealth(h));
    const monitor = new TaskExitMonitor(client, subscription, logger);
    const events = new ContainerdEvents({
      client,
      subscription,
      listContainers: () => this.containers(),
      logger,
    });
    return { client, subscription, monitor, events };
  }

  private requireConnection(): Connection {
    if (!this.connection) throw new EngineUnavailableError('the containerd engine is not started');
    return this.connection;
  }

  private teardown(): void {
    const connection = this.connection;
    this.connection = null;
    connection?.monitor.stop();
    connection?.subscription.stop();
    connection?.client.close();
  }
}
