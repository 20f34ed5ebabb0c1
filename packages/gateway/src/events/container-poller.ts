import {
  ContainerEventHub,
  errorText,
  hasErrorCode,
  nowNanos,
  type ContainerEvent,
  type ContainerInfo,
  type Engine,
  type PluginLogger,
} from '@enginegate/plugin-api';
import { diffContainers } from './container-diff.js';

/** How often an engine without `events` is listed while anyone follows its events. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/**
 * Events for an engine without `events()`: one poller per engine, shared by every client,
 * lists `containers()` every interval while anyone is subscribed and publishes the
 * differences. It stops listing when the last subscriber leaves; an engine outage
 * (ENGINE_UNAVAILABLE) ends every subscription with that error.
 */
export class ContainerPoller {
  private readonly hub = new ContainerEventHub();
  private known: Map<string, ContainerInfo> | null = null;
  private baseline: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly intervalMs: number,
    private readonly logger: PluginLogger,
  ) {}

  /** Resolves once the poller has a listing to compare with: later changes are all seen. */
  async subscribe(signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>> {
    const events = this.hub.subscribe(signal);
    if (this.known === null) {
      this.baseline ??= this.takeBaseline().finally(() => (this.baseline = null));
      await this.baseline;
    }
    return events;
  }

  /** Stops listing and ends every subscription (the engine went away). */
  close(error?: Error): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.known = null;
    this.hub.close(error);
  }

  private async takeBaseline(): Promise<void> {
    this.known = byId(await this.engine.containers());
    this.schedule();
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    const known = this.known;
    if (known === null) return;
    if (this.hub.size === 0) {
      this.known = null;
      return;
    }
    try {
      const listed = await this.engine.containers();
      if (this.known !== known) return;
      this.known = byId(listed);
      this.hub.publish(diffContainers(known, listed, nowNanos()));
    } catch (err) {
      if (hasErrorCode(err, 'ENGINE_UNAVAILABLE')) return this.close(err);
      this.logger.warn({ engine: this.engine.name, err: errorText(err) }, 'listing containers for events failed');
    }
    if (this.known !== null && this.timer === undefined) this.schedule();
  }
}

function byId(containers: readonly ContainerInfo[]): Map<string, ContainerInfo> {
  return new Map(containers.map((container) => [container.id, container]));
}
