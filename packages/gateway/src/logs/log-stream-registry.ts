import type { EngineChange } from '../engine-manager.js';
import type { LogStream } from './log-stream.js';

/**
 * Every open log stream (WebSocket and HTTP, from source open to end), so that an engine change
 * (1012) and shutdown (1001) reach them all, and the stream count is exact.
 */
export class LogStreamRegistry {
  private readonly streams = new Set<LogStream<unknown>>();
  /** The client address of each stream, and the open streams per address. */
  private readonly clientOf = new Map<LogStream<unknown>, string>();
  private readonly perClient = new Map<string, number>();
  private emptyWaiters: Array<() => void> = [];

  /** `maxPerClient`: open streams from one client address beyond which a new one is refused. */
  constructor(private readonly maxPerClient = Infinity) {}

  /** Why one more stream from `client` is refused (a limit reached), or undefined. */
  refusal(client: string, maxStreams: number): string | undefined {
    if (this.streams.size >= maxStreams) return `too many open streams (limit ${maxStreams})`;
    if ((this.perClient.get(client) ?? 0) >= this.maxPerClient)
      return `too many open streams from ${client} (limit ${this.maxPerClient})`;
    return undefined;
  }

  get size(): number {
    return this.streams.size;
  }

  add(stream: LogStream<unknown>, client = 'unknown'): void {
    this.streams.add(stream);
    this.clientOf.set(stream, client);
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
  }

  delete(stream: LogStream<unknown>): void {
    if (!this.streams.delete(stream)) return;
    const client = this.clientOf.get(stream)!;
    this.clientOf.delete(stream);
    const left = this.perClient.get(client)! - 1;
    if (left === 0) this.perClient.delete(client);
    else this.perClient.set(client, left);
    if (this.streams.size > 0) return;
    const waiters = this.emptyWaiters;
    this.emptyWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Closes streams opened on an older engine generation, or all when the engine is not running. */
  onEngineChange(change: EngineChange): void {
    for (const stream of this.streams) {
      if (change.state !== 'running' || stream.generation !== change.generation) stream.stop(1012, change.reason);
    }
  }

  stopAll(code: number, reason: string): void {
    for (const stream of this.streams) stream.stop(code, reason);
  }

  /** Resolves true once no stream is open, or false after `timeoutMs`. */
  whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.streams.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.emptyWaiters = this.emptyWaiters.filter((w) => w !== onEmpty);
        resolve(false);
      }, timeoutMs);
      const onEmpty = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.emptyWaiters.push(onEmpty);
    });
  }
}
