import type { ClientReadableStream } from '@grpc/grpc-js';
import { EngineUnavailableError, type EngineHealth, type PluginLogger } from '@enginegate/plugin-api';
import type { ContainerdClient, ContainerdEnvelope } from './containerd-client.js';

/** What a consumer of the shared subscription is told. */
export interface SubscriptionListener {
  /** An event of one of the subscribed topics, decoded, in containerd's order. */
  envelope?(envelope: ContainerdEnvelope): void;
  /** A (new) stream stayed open for the settle time: events from now on are all seen. */
  live?(): void;
  /** The stream ended or failed (the daemon is gone, or going); it resubscribes with backoff. */
  ended?(error: EngineUnavailableError): void;
  /** `stop()` was called: no more events, no resubscription. */
  stopped?(): void;
}

export interface EventSubscriptionOptions {
  /** How long a new subscription must stay open before it counts as live. */
  settleMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * One `Events.Subscribe` stream of the engine, for every consumer (the task-exit monitor, the
 * engine's `events()`): containerd sends each subscriber a copy of every event, so one stream
 * costs the daemon least.
 *
 * containerd does not acknowledge a subscription, so a new stream counts as live once it has
 * stayed open for `settleMs` (a refused or broken one fails well within that). When the stream
 * fails the daemon is reported lost (`onHealth({ ok: false })`) and it resubscribes with
 * backoff; the first live subscription after that reports it back.
 */
export class EventSubscription {
  private readonly listeners = new Set<SubscriptionListener>();
  private stream: ClientReadableStream<unknown> | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private running = false;
  private live = false;
  private lostReported = false;
  private backoffMs: number;
  private readonly filters: string[];
  private readonly settleMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly client: ContainerdClient,
    topics: readonly string[],
    private readonly logger: PluginLogger,
    private readonly onHealth: (health: EngineHealth) => void,
    options: EventSubscriptionOptions = {},
  ) {
    // containerd sends an event that matches any one of the filters.
    this.filters = topics.map((topic) => `topic==${JSON.stringify(topic)}`);
    this.settleMs = options.settleMs ?? 150;
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 4_000;
    this.backoffMs = this.initialBackoffMs;
  }

  /** True while a stream is open and settled. */
  get isLive(): boolean {
    return this.live;
  }

  /** Open streams: 1 while running (0 between a loss and the resubscription). */
  get subscriptionCount(): number {
    return this.stream ? 1 : 0;
  }

  listen(listener: SubscriptionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.subscribe();
  }

  stop(): void {
    this.running = false;
    this.live = false;
    this.clearTimers();
    const stream = this.stream;
    this.stream = null;
    stream?.cancel();
    for (const listener of [...this.listeners]) listener.stopped?.();
  }

  /**
   * Resolves once the stream is live (at once when it is). Rejects with EngineUnavailableError
   * when it is stopped or the next stream fails, and with the reason when `signal` aborts.
   * Waiting for a retry after a loss, it resubscribes at once: the daemon may answer again
   * (the gateway already serves the engine) before the backoff has passed.
   */
  whenLive(signal: AbortSignal): Promise<void> {
    if (this.live) return Promise.resolve();
    if (!this.running) return Promise.reject(new EngineUnavailableError('the containerd engine is not started'));
    if (this.retryTimer) {
      this.clearTimers();
      this.subscribe();
    }
    return new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        unlisten();
        signal.removeEventListener('abort', onAbort);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = () => done(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      const unlisten = this.listen({
        live: () => done(),
        ended: (err) => done(err),
        stopped: () => done(new EngineUnavailableError('the containerd engine was stopped')),
      });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private subscribe(): void {
    if (!this.running) return;
    const stream = this.client.subscribe(this.filters);
    this.stream = stream;
    stream.on('data', (raw: unknown) => {
      if (this.stream === stream) this.onMessage(raw);
    });
    stream.on('error', (err: Error) => this.onStreamEnded(stream, err));
    stream.on('end', () => this.onStreamEnded(stream, new Error('the event stream ended')));
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      if (this.stream !== stream) return;
      this.live = true;
      this.backoffMs = this.initialBackoffMs;
      if (this.lostReported) {
        this.lostReported = false;
        this.logger.warn({ address: this.client.address }, 'containerd is back: event subscription restored');
        this.onHealth({ ok: true });
      }
      for (const listener of [...this.listeners]) listener.live?.();
    }, this.settleMs);
  }

  private onMessage(raw: unknown): void {
    let envelope;
    try {
      envelope = this.client.decodeEnvelope(raw);
    } catch (err) {
      this.logger.warn({ err }, 'containerd event could not be decoded');
      return;
    }
    for (const listener of [...this.listeners]) listener.envelope?.(envelope);
  }

  private onStreamEnded(stream: ClientReadableStream<unknown>, err: Error): void {
    if (this.stream !== stream) return; // cancelled by stop() or already replaced
    this.stream = null;
    this.live = false;
    this.clearTimers();
    if (!this.running) return;
    const message = `containerd event stream lost: ${(err as { details?: string }).details ?? err.message}`;
    const failure = new EngineUnavailableError(message, { cause: err });
    if (!this.lostReported) {
      this.lostReported = true;
      this.logger.warn({ address: this.client.address, err }, message);
      this.onHealth({ ok: false, message });
    } else {
      this.logger.debug({ address: this.client.address }, message);
    }
    for (const listener of [...this.listeners]) listener.ended?.(failure);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.subscribe();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
  }

  private clearTimers(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.settleTimer = null;
    this.retryTimer = null;
  }
}

// Namespaces and container IDs cannot contain NUL, so it separates them unambiguously.
export function namespacedKey(namespace: string, containerId: string): string {
  return `${namespace}\0${containerId}`;
}

export function splitNamespacedKey(key: string): [string, string] {
  const i = key.indexOf('\0');
  return [key.slice(0, i), key.slice(i + 1)];
}
