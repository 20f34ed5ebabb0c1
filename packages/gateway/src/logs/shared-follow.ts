import {
  decodeCursor,
  encodeCursor,
  type ContainerRef,
  type LogOptions,
  type LogRecord,
  type LogSource,
} from '@enginegate/plugin-api';
import type { LiveTailSubscriber, LiveTailSubscription } from './live-tail-hub.js';

export interface SharedFollowInit {
  source: LogSource;
  ref: ContainerRef;
  /** The client's own options (follow true, no `until`). */
  options: LogOptions;
  /** Records queued behind the client before it leaves the hub for an engine stream of its own. */
  maxQueuedRecords: number;
  signal: AbortSignal;
}

/** Lines of the hub may run behind the history's end this long before the client reads on its own. */
const JOIN_TIMEOUT_MS = 2000;

/**
 * One client's follow: its own history first, then the hub's live records from exactly behind
 * the last line it sent — no line twice, none lost. Built by SharedLiveTails, which subscribes
 * it to a hub before the history is read, so that every line written after the history's end
 * is in its queue.
 *
 * Joining: the history ends with a line the hub has delivered too (or with the hub's anchor,
 * or it is empty); queued lines up to and including it are dropped. A client that falls more
 * than `maxQueuedRecords` behind (a slow reader, or a long history), or whose last line the hub
 * never shows, leaves the hub and resumes from its last line with an engine stream of its own
 * (`after=`, which every engine resumes exactly).
 */
export class SharedFollow implements AsyncIterable<LogRecord[]>, LiveTailSubscriber {
  private subscription: LiveTailSubscription | undefined;
  private history: AsyncIterable<LogRecord[]> | undefined;
  private queue: LogRecord[][] = [];
  private queued = 0;
  private ended: { error?: unknown } | undefined;
  private detached = false;
  private wake: (() => void) | undefined;
  /** Cursor of the last line sent to the client. */
  private lastSent: string | undefined;

  private readonly onAbort = () => {
    // A client that leaves while this waits for the hub must not hold its place in it.
    this.leaveHub();
    this.wake?.();
  };

  constructor(private readonly init: SharedFollowInit) {
    // The line an `after=` names is the last one this client has, until its history sends more.
    this.lastSent = init.options.after === undefined ? undefined : encodeCursor(init.options.after);
    init.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** `history`: the client's selection read with `follow=false`, opened after `subscription`. */
  start(subscription: LiveTailSubscription, history: AsyncIterable<LogRecord[]>): void {
    this.subscription = subscription;
    this.history = history;
  }

  /** Leaves the hub (when the history could not be opened, or the client left before reading). */
  cancel(): void {
    this.init.signal.removeEventListener('abort', this.onAbort);
    this.leaveHub();
  }

  push(records: readonly LogRecord[]): void {
    if (this.detached) return;
    this.queue.push(records as LogRecord[]);
    this.queued += records.length;
    if (this.queued > this.init.maxQueuedRecords) this.detach();
    this.wake?.();
  }

  end(error?: unknown): void {
    this.ended = { error };
    this.wake?.();
  }

  [Symbol.asyncIterator](): AsyncIterator<LogRecord[]> {
    return this.run();
  }

  private async *run(): AsyncGenerator<LogRecord[]> {
    try {
      for await (const batch of this.history ?? []) {
        this.noteSent(batch);
        yield batch;
      }
      const anchor = this.subscription?.anchor;
      let joinBehind = this.lastSent !== undefined && this.lastSent !== anchor ? this.lastSent : undefined;
      this.lastSent ??= anchor;
      const joinDeadline = Date.now() + JOIN_TIMEOUT_MS;
      for (;;) {
        if (this.detached) {
          yield* this.ownStream();
          return;
        }
        const batch = await this.next();
        if (batch === null) return;
        let records = batch;
        if (joinBehind !== undefined) {
          const at = batch.findIndex((r) => r.type === 'line' && r.cursor === joinBehind);
          if (at === -1) {
            // Still before the history's last line (the hub lags behind the file), or past it
            // unseen: its own stream, resuming behind that line, is exact either way.
            if (batch.some((r) => r.type !== 'line') || Date.now() > joinDeadline) this.detach();
            continue;
          }
          joinBehind = undefined;
          records = batch.slice(at + 1);
        }
        if (records.length === 0) continue;
        this.noteSent(records);
        yield records;
      }
    } finally {
      this.cancel();
    }
  }

  /** The next queued batch; null when the hub's stream ended; throws what it failed with. */
  private async next(): Promise<LogRecord[] | null> {
    for (;;) {
      const batch = this.queue.shift();
      if (batch !== undefined) {
        this.queued -= batch.length;
        return batch;
      }
      if (this.detached) return [];
      if (this.init.signal.aborted) return null;
      if (this.ended) {
        // Passed on as the engine threw it: the stream maps it to a close code.
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        if (this.ended.error !== undefined) throw this.ended.error;
        return null;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Behind by more than the queue may hold: from now on, an engine stream of this client's own. */
  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.queue = [];
    this.queued = 0;
    this.leaveHub();
  }

  private async *ownStream(): AsyncGenerator<LogRecord[]> {
    const { source, ref, options, signal } = this.init;
    // With nothing sent and no anchor, the container had no line when the history was read:
    // everything it holds now is new, so it is read from the start (the client's `since` kept).
    const resume: LogOptions =
      this.lastSent !== undefined
        ? { ...options, tail: undefined, since: undefined, after: decodeCursor(this.lastSent) }
        : { ...options, tail: undefined, after: undefined };
    yield* await source.open(ref, resume, signal);
  }

  private noteSent(records: readonly LogRecord[]): void {
    for (let i = records.length - 1; i >= 0; i--) {
      const record = records[i]!;
      if (record.type === 'line') {
        this.lastSent = record.cursor;
        return;
      }
    }
  }

  private leaveHub(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
}
