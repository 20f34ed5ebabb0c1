import type { EngineChange } from '../engine-manager.js';
import type { LogStream } from './log-stream.js';

/**
 * Every open log stream (WebSocket and HTTP, from source open to end), so that an engine change
 * (1012) and shutdown (1001) reach them all, and the stream count is exact.
 */
export class LogStreamRegistry {
  private readonly streams = new Set<LogStream<unknown>>();
  private emptyWaiters: Array<() => void> = [];

  get size(): number {
    return this.streams.size;
  }

  add(stream: LogStream<unknown>): void {
    this.streams.add(stream);
  }

  delete(stream: LogStream<unknown>): void {
    if (!this.streams.delete(stream) || this.streams.size > 0) return;
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
