import type { ContainerEvent } from '@enginegate/plugin-api';

/** A container's life as every engine with events reports it: each action, and the state after it. */
export const LIFECYCLE_STATES: readonly (readonly [ContainerEvent['action'], string])[] = [
  ['create', 'created'],
  ['start', 'running'],
  ['die', 'exited'],
  ['destroy', 'removed'],
];

/** An event with the moment (performance.now()) it came out of the engine's iterable. */
export interface RecordedEvent {
  event: ContainerEvent;
  at: number;
}

/**
 * Reads an engine's `events()` iterable in the background and keeps every event with its
 * arrival time, for tests that wait for a sequence and check how fast each came.
 */
export class EventRecorder {
  readonly events: RecordedEvent[] = [];
  /** Settles when the iterable ended; holds its error, if it threw. */
  readonly ended: Promise<unknown>;
  private wake: (() => void) | null = null;
  private done = false;

  constructor(source: AsyncIterable<ContainerEvent[]>) {
    this.ended = (async () => {
      try {
        for await (const batch of source) {
          const at = performance.now();
          for (const event of batch) this.events.push({ event, at });
          this.wake?.();
        }
        return undefined;
      } catch (err) {
        return err;
      } finally {
        this.done = true;
        this.wake?.();
      }
    })();
  }

  /** The recorded events of one container (by full ID). */
  of(id: string): RecordedEvent[] {
    return this.events.filter((recorded) => recorded.event.container.id === id);
  }

  /** Waits for the first `action` event of container `id` (full ID); returns it with its arrival time. */
  async arrival(id: string, action: ContainerEvent['action'], timeoutMs = 10_000): Promise<RecordedEvent> {
    const find = () => this.of(id).find((recorded) => recorded.event.action === action);
    await this.waitFor(() => find() !== undefined, `${action} of ${id}`, timeoutMs);
    return find()!;
  }

  /** Waits until `predicate` holds for the events so far; throws after `timeoutMs` or at the end. */
  async waitFor(predicate: (events: RecordedEvent[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (this.done) throw new Error(`the events ended before ${what}`);
      const left = deadline - performance.now();
      if (left <= 0) {
        const seen = this.events.map((r) => `${r.event.action} ${r.event.container.names[0] ?? r.event.container.id}`);
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; saw: ${seen.join(', ')}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }
}
