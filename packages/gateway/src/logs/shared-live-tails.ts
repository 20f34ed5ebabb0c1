import {
  isEngineGateError,
  type ContainerRef,
  type LogOptions,
  type LogRecord,
  type LogSource,
} from '@enginegate/plugin-api';
import { LiveTailHub } from './live-tail-hub.js';
import { SharedFollow } from './shared-follow.js';

export interface SharedLiveTailsOptions {
  /** Off: every follower gets an engine stream of its own, as before. */
  enabled: boolean;
  /** Records a follower may be behind the live end before it reads on its own (SharedFollow). */
  maxQueuedRecords: number;
}

/**
 * Opens the clients' log sources so that the followers of one container share **one** engine
 * stream for the live part (500 browser tabs on one container: one stream on the Docker
 * socket, not 500). Each client still reads its own history (`tail`, `since`, `after`) with an
 * engine read of its own, then joins the shared live tail exactly behind its last line.
 *
 * Shared: `follow=true` without `until` (or a `since` still to come), keyed by engine generation, container reference as
 * the client spelled it, namespace and stdout/stderr selection. Everything else goes to the
 * engine directly.
 */
export class SharedLiveTails {
  private readonly hubs = new Map<string, Promise<LiveTailHub>>();

  constructor(private readonly options: SharedLiveTailsOptions) {}

  /** Engine streams shared now (one per container and selection being followed). */
  get size(): number {
    return this.hubs.size;
  }

  async open(
    engine: { generation: number; source: LogSource },
    ref: ContainerRef,
    options: LogOptions,
    signal: AbortSignal,
  ): Promise<AsyncIterable<LogRecord[]>> {
    const { source } = engine;
    // A `since` still to come would need the shared lines filtered by time: not shared.
    const sinceAhead = options.since !== undefined && options.since > BigInt(Date.now()) * 1_000_000n;
    if (!this.options.enabled || !options.follow || options.until !== undefined || sinceAhead) {
      return source.open(ref, options, signal);
    }
    const key = JSON.stringify([engine.generation, ref.ref, ref.namespace ?? null, options.stdout, options.stderr]);
    // A hub whose stream ended just now refuses subscribers: a new one is opened (twice at most).
    for (let attempt = 0; attempt < 3; attempt++) {
      // What the engine refuses for this request (no such container, 409, 501, 400) is this
      // client's answer as it stands; a hub that fails otherwise (the engine failing while its
      // newest line is read) leaves the client to an engine stream of its own.
      const hub = await this.hubFor(key, source, ref, options).catch((err: unknown) => {
        if (isEngineGateError(err) && err.statusCode < 500) throw err;
        return null;
      });
      if (hub === null) break;
      const follow = new SharedFollow({
        source,
        ref,
        options,
        maxQueuedRecords: this.options.maxQueuedRecords,
        signal,
      });
      const subscription = hub.subscribe(follow);
      if (subscription === null) continue;
      try {
        // Subscribed first, then the history read: every line after the history's end is queued.
        follow.start(subscription, await source.open(ref, { ...options, follow: false }, signal));
      } catch (err) {
        follow.cancel();
        subscription.unsubscribe();
        throw err;
      }
      return follow;
    }
    return source.open(ref, options, signal);
  }

  private hubFor(key: string, source: LogSource, ref: ContainerRef, options: LogOptions): Promise<LiveTailHub> {
    const existing = this.hubs.get(key);
    if (existing) return existing;
    const forget = () => {
      if (this.hubs.get(key) === opening) this.hubs.delete(key);
    };
    const opening = LiveTailHub.open(source, ref, { stdout: options.stdout, stderr: options.stderr }, forget);
    this.hubs.set(key, opening);
    opening.catch(forget);
    return opening;
  }
}
