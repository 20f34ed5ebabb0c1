import type { ContainerEvent, Engine, PluginLogger } from '@enginegate/plugin-api';
import { ContainerPoller, DEFAULT_POLL_INTERVAL_MS } from './container-poller.js';
import { eventRecord, presentRecord, type EventsRecord } from './events-records.js';

/**
 * Where an engine's container events come from: its own `events()`, or one shared poller of
 * `containers()` per engine that has none.
 */
export class EngineEvents {
  private readonly pollers = new Map<Engine, ContainerPoller>();

  constructor(
    private readonly logger: PluginLogger,
    private readonly pollIntervalMs = DEFAULT_POLL_INTERVAL_MS,
  ) {}

  /**
   * The records of one events stream: subscribes first, then lists the containers, so that
   * nothing happens unseen between the `present` records and the live ones. Rejects (before any
   * record) when the engine cannot be subscribed to or listed.
   */
  async open(engine: Engine, signal: AbortSignal): Promise<AsyncIterable<EventsRecord[]>> {
    const events = await this.subscribe(engine, signal);
    // A failure here leaves the subscription to `signal`, which the caller aborts.
    const present = await engine.containers();
    return records(present.map(presentRecord), events);
  }

  /**
   * The engine's container events from now on: its own `events()`, or the shared poller's.
   * Resolves once subscribed, so that a `containers()` listed after it misses nothing.
   */
  subscribe(engine: Engine, signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>> {
    return engine.events ? engine.events(signal) : this.pollerOf(engine).subscribe(signal);
  }

  /**
   * Stops every poller: on an engine change (switch, loss, stop), whose streams the registry
   * closes with 1012, a poller's last listing is stale.
   */
  closeAll(): void {
    for (const poller of this.pollers.values()) poller.close();
    this.pollers.clear();
  }

  private pollerOf(engine: Engine): ContainerPoller {
    let poller = this.pollers.get(engine);
    if (poller === undefined) {
      poller = new ContainerPoller(engine, this.pollIntervalMs, this.logger);
      this.pollers.set(engine, poller);
    }
    return poller;
  }
}

async function* records(
  present: EventsRecord[],
  events: AsyncIterable<ContainerEvent[]>,
): AsyncGenerator<EventsRecord[]> {
  yield [...present, { type: 'synced' }];
  for await (const batch of events) yield batch.map(eventRecord);
}
