import {
  ContainerEventHub,
  nanosToMs,
  type ContainerEvent,
  type ContainerInfo,
  type UnixNanos,
} from '@enginegate/plugin-api';
import type { Clock } from './clock.js';
import type { SimulatedContainer } from './simulated-container.js';

/**
 * The mock engine's container events: `create` and `start` when a container is added, `die`
 * (with its exit code) at its exit time, `destroy` when it is removed. Times are the engine
 * clock's; the `die` waits in real time like a follower does.
 */
export class MockEvents {
  private readonly hub = new ContainerEventHub();
  private readonly exitTimers = new Map<SimulatedContainer, NodeJS.Timeout>();

  constructor(private readonly clock: Clock) {}

  subscribe(signal: AbortSignal): AsyncIterable<ContainerEvent[]> {
    return this.hub.subscribe(signal);
  }

  added(container: SimulatedContainer): void {
    const now = this.clock();
    const info = container.info(now);
    this.hub.publish([
      { action: 'create', container: { ...info, state: 'created' }, time: container.createdAt },
      { action: 'start', container: { ...info, state: 'running' }, time: container.createdAt },
    ]);
    const exitTime = container.exitTime;
    if (exitTime === undefined) return;
    if (exitTime <= now) return this.died(container, exitTime);
    const timer = setTimeout(
      () => {
        this.exitTimers.delete(container);
        this.died(container, exitTime);
      },
      waitMs(exitTime, now),
    );
    timer.unref();
    this.exitTimers.set(container, timer);
  }

  removed(container: SimulatedContainer): void {
    this.cancelExit(container);
    const info: ContainerInfo = { ...container.info(this.clock()), state: 'removed' };
    this.hub.publish([{ action: 'destroy', container: info, time: this.clock() }]);
  }

  /** The engine stopped: no more events; subscriptions end with `error`. */
  close(error: Error): void {
    for (const container of [...this.exitTimers.keys()]) this.cancelExit(container);
    this.hub.close(error);
  }

  private died(container: SimulatedContainer, time: UnixNanos): void {
    const exitCode = container.exitCode!;
    this.hub.publish([{ action: 'die', container: { ...container.info(time), state: 'exited' }, time, exitCode }]);
  }

  private cancelExit(container: SimulatedContainer): void {
    clearTimeout(this.exitTimers.get(container));
    this.exitTimers.delete(container);
  }
}

/** Real milliseconds until `time` (rounded up: a timer early by a fraction would find it not due). */
function waitMs(time: UnixNanos, now: UnixNanos): number {
  return Math.ceil(nanosToMs(time - now)) + 1;
}
