import {
  ContainerEventHub,
  errorText,
  nowNanos,
  type ContainerAction,
  type ContainerEvent,
  type ContainerInfo,
  type PluginLogger,
} from '@enginegate/plugin-api';
import type { ContainerdClient, ContainerdEnvelope } from './containerd-client.js';
import { toContainerInfo } from './container-info.js';
import { EXCLUDED_NAMESPACES } from './container-resolver.js';
import { TASK_EXIT_TOPIC, initProcessExit } from './containerd-messages.js';
import { namespacedKey, type EventSubscription } from './event-subscription.js';

/** containerd's topics that are container events of the contract, and the state after each. */
const TOPICS: Readonly<Record<string, { action: ContainerAction; state?: string }>> = {
  '/containers/create': { action: 'create', state: 'created' },
  '/containers/update': { action: 'update' },
  '/tasks/start': { action: 'start', state: 'running' },
  [TASK_EXIT_TOPIC]: { action: 'die', state: 'exited' },
  '/tasks/paused': { action: 'update', state: 'paused' },
  '/tasks/resumed': { action: 'update', state: 'running' },
  '/containers/delete': { action: 'destroy', state: 'removed' },
};

/** The topics `ContainerdEvents` needs of the engine's subscription. */
export const CONTAINER_EVENT_TOPICS: readonly string[] = Object.keys(TOPICS);

export interface ContainerdEventsInit {
  client: ContainerdClient;
  subscription: EventSubscription;
  /** The engine's listing (every namespace it serves): what is known of containers at first. */
  listContainers: () => Promise<ContainerInfo[]>;
  logger: PluginLogger;
}

/**
 * The engine's `events()`: containerd's container and task events from the shared subscription,
 * as container events. Each is described by the container as the listing describes it (looked up
 * when the event comes; for destroy, and for a container already gone, as it was last known),
 * and published in containerd's order: one event is described after the other. Nothing is looked
 * up while nobody subscribes. A lost subscription ends every iterable with EngineUnavailableError.
 */
export class ContainerdEvents {
  private readonly hub = new ContainerEventHub();
  /** What was last known of each container (by namespace and ID), to describe it when it is gone. */
  private known = new Map<string, ContainerInfo>();
  private seeded = false;
  /** Bumped at each loss: what was queued before it is not published after. */
  private generation = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly init: ContainerdEventsInit) {
    init.subscription.listen({
      envelope: (envelope) => this.onEnvelope(envelope),
      ended: (error) => {
        this.forget();
        this.hub.close(error);
      },
      stopped: () => {
        this.forget();
        this.hub.close();
      },
    });
  }

  /** Open `open()` iterables. */
  get subscriberCount(): number {
    return this.hub.size;
  }

  /** Events from now on; resolves once the subscription is live (see `EventSubscription`). */
  async open(signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>> {
    if (this.hub.size === 0) this.forget();
    const events = this.hub.subscribe(signal);
    this.ensureSeeded();
    try {
      await this.init.subscription.whenLive(signal);
    } catch (err) {
      await events.return?.();
      throw err;
    }
    return events;
  }

  private onEnvelope(envelope: ContainerdEnvelope): void {
    if (this.hub.size === 0) return this.forget();
    const mapped = TOPICS[envelope.topic];
    if (mapped === undefined || EXCLUDED_NAMESPACES.includes(envelope.namespace)) return;
    const id = containerIdOf(envelope);
    if (id === undefined) return;
    this.ensureSeeded();
    this.enqueue(async () => [await this.toEvent(envelope, id, mapped)]);
  }

  private async toEvent(
    envelope: ContainerdEnvelope,
    id: string,
    mapped: { action: ContainerAction; state?: string },
  ): Promise<ContainerEvent> {
    const key = namespacedKey(envelope.namespace, id);
    const looked = mapped.action === 'destroy' ? undefined : await this.describe(envelope.namespace, id, mapped.state);
    const container: ContainerInfo = { ...(looked ?? this.known.get(key) ?? unknownContainer(envelope, id)) };
    if (mapped.state !== undefined) container.state = mapped.state;
    if (mapped.action === 'destroy') this.known.delete(key);
    else this.known.set(key, container);
    const event: ContainerEvent = { action: mapped.action, container, time: envelope.time ?? nowNanos() };
    const exit = mapped.action === 'die' ? initProcessExit(envelope) : undefined;
    if (exit) event.exitCode = exit.exitCode;
    return event;
  }

  /** The container as the listing shows it (with `state` when the event tells it); undefined when gone. */
  private async describe(namespace: string, id: string, state?: string): Promise<ContainerInfo | undefined> {
    const { client } = this.init;
    try {
      const [container, task] = await Promise.all([
        client.getContainer(namespace, id),
        state === undefined ? client.getTask(namespace, id) : undefined,
      ]);
      return container ? toContainerInfo(container, task) : undefined;
    } catch (err) {
      // The daemon going away ends the subscription too; until then, say what is known.
      this.init.logger.debug({ err: errorText(err), namespace, id }, 'a container of an event could not be looked up');
      return undefined;
    }
  }

  /** Lists the containers once per run of subscribers, in the queue: before any later event. */
  private ensureSeeded(): void {
    if (this.seeded) return;
    this.seeded = true;
    const generation = this.generation;
    this.queue = this.queue.then(async () => {
      try {
        const listed = await this.init.listContainers();
        if (generation !== this.generation) return;
        this.known = new Map(listed.map((info) => [namespacedKey(info.namespace ?? '', info.id), info]));
      } catch (err) {
        this.init.logger.debug({ err: errorText(err) }, 'containers for events could not be listed');
        if (generation === this.generation) this.seeded = false;
      }
    });
  }

  /** Runs `describe` after everything queued before it, and publishes what it gives. */
  private enqueue(describe: () => Promise<ContainerEvent[]>): void {
    const generation = this.generation;
    this.queue = this.queue
      .then(async () => {
        const events = await describe();
        if (generation === this.generation) this.hub.publish(events);
      })
      // One event that cannot be described must not stop the ones after it.
      .catch((err: unknown) => this.init.logger.warn({ err: errorText(err) }, 'a containerd event was dropped'));
  }

  /** Drops what is known (nobody follows, or the daemon was lost): the next subscriber lists again. */
  private forget(): void {
    this.generation++;
    this.seeded = false;
    this.known = new Map();
  }
}

/** The container an event is about; undefined for the exit of an exec'd process. */
function containerIdOf(envelope: ContainerdEnvelope): string | undefined {
  if (envelope.topic === TASK_EXIT_TOPIC) return initProcessExit(envelope)?.containerId;
  const event = envelope.event as { id?: string; container_id?: string } | undefined;
  const id = envelope.topic.startsWith('/tasks/') ? event?.container_id : event?.id;
  return id || undefined;
}

/** What an event alone tells of a container the plugin never saw. */
function unknownContainer(envelope: ContainerdEnvelope, id: string): ContainerInfo {
  const image = (envelope.event as { image?: string } | undefined)?.image ?? '';
  return {
    id,
    names: [id],
    namespace: envelope.namespace,
    image,
    state: 'unknown',
    tty: false,
    createdAt: '',
    labels: {},
  };
}
