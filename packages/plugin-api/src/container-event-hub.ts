import { InternalError } from './errors.js';
import type { ContainerEvent } from './types.js';

/** Events queued for one subscriber that does not pull; beyond, it is ended with an error. */
export const MAX_QUEUED_EVENTS = 10_000;

/**
 * Fans container events out to every subscriber: each `subscribe()` is an async iterable of
 * batches, from the moment of the call on, in publish order. A subscriber that falls more than
 * MAX_QUEUED_EVENTS behind is ended with an error instead of growing without bound; `close()`
 * ends them all (with `error` they throw it). For an engine whose events come from its own
 * simulation or from polling; an engine with an event stream of its own needs none.
 */
export class ContainerEventHub {
  private readonly subscribers = new Set<HubSubscriber>();

  constructor(private readonly maxQueued = MAX_QUEUED_EVENTS) {}

  /** Open subscriptions. */
  get size(): number {
    return this.subscribers.size;
  }

  subscribe(signal: AbortSignal): AsyncIterable<ContainerEvent[]> & AsyncIterator<ContainerEvent[]> {
    const subscriber = new HubSubscriber(this.maxQueued, () => this.subscribers.delete(subscriber), signal);
    if (!signal.aborted) this.subscribers.add(subscriber);
    return subscriber;
  }

  publish(events: readonly ContainerEvent[]): void {
    if (events.length === 0) return;
    for (const subscriber of this.subscribers) subscriber.push(events);
  }

  close(error?: Error): void {
    for (const subscriber of [...this.subscribers]) subscriber.end(error);
  }
}

class HubSubscriber implements AsyncIterable<ContainerEvent[]>, AsyncIterator<ContainerEvent[]> {
  private queue: ContainerEvent[] = [];
  private waiter: { resolve: (result: IteratorResult<ContainerEvent[]>) => void; reject: (err: Error) => void } | null =
    null;
  private ended = false;
  private failure: Error | undefined;
  private readonly onAbort = () => this.end();

  constructor(
    private readonly maxQueued: number,
    private readonly forget: () => void,
    private readonly signal: AbortSignal,
  ) {
    if (signal.aborted) this.ended = true;
    else signal.addEventListener('abort', this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  push(events: readonly ContainerEvent[]): void {
    if (this.ended) return;
    if (this.waiter !== null) {
      const { resolve } = this.waiter;
      this.waiter = null;
      resolve({ done: false, value: [...events] });
      return;
    }
    this.queue.push(...events);
    if (this.queue.length > this.maxQueued) {
      this.end(new InternalError(`the client fell more than ${this.maxQueued} container events behind`));
    }
  }

  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    this.signal.removeEventListener('abort', this.onAbort);
    this.forget();
    if (this.waiter === null) return;
    const { resolve, reject } = this.waiter;
    this.waiter = null;
    // Queued events still go out before the end; with a waiter, the queue is empty.
    if (error) reject(error);
    else resolve({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<ContainerEvent[]>> {
    if (this.queue.length > 0 && this.failure === undefined) {
      const value = this.queue;
      this.queue = [];
      return Promise.resolve({ done: false, value });
    }
    if (this.ended) {
      this.queue = [];
      return this.failure ? Promise.reject(this.failure) : Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  return(): Promise<IteratorResult<ContainerEvent[]>> {
    this.end();
    this.queue = [];
    return Promise.resolve({ done: true, value: undefined });
  }
}
