import { errorText, type EngineHealth, type EngineState, type PluginLogger } from '@enginegate/plugin-api';
import type { RegisteredEngine } from './engine-registry.js';
import { withTimeout } from './with-timeout.js';

const MAX_RETRY_DELAY_MS = 4000;

/** The engine the scheduler watches, as the switching state machine sees it right now. */
export interface HealthSubject {
  /** The active engine, its state and generation; null when there is none. */
  watched(): { registered: RegisteredEngine; state: EngineState; generation: number } | null;
  /** A running engine failed its health check. */
  onUnhealthy(generation: number, problem: string): void;
  /** An unavailable engine failed to start again; `problem` is what the 503 says. */
  onStillDown(generation: number, problem: string): void;
  /** An unavailable engine started and reports healthy. */
  onRecovered(generation: number): void;
}

export interface HealthSchedulerOptions {
  /** Health poll of a running engine. */
  intervalMs: number;
  /** A restart attempt that takes longer counts as failed. */
  startTimeoutMs: number;
  logger: PluginLogger;
}

/**
 * When to look at the active engine: a running one gets `health()` every interval, an
 * unavailable one `start()` + `health()` with backoff (250 ms doubling to 4 s). One check at a
 * time; a check asked for during one runs right after it. Every timer is unref'd: polling alone
 * never keeps a process alive.
 */
export class HealthScheduler {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private recheckWanted = false;
  private retryDelayMs = 0;
  private closed = false;

  constructor(
    private readonly subject: HealthSubject,
    private readonly options: HealthSchedulerOptions,
  ) {}

  /** For the 503's Retry-After: the current backoff step, at least a second. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.retryDelayMs / 1000));
  }

  resetBackoff(): void {
    this.retryDelayMs = 0;
  }

  /** The next health poll of a running engine, one interval from now. */
  pollLater(generation: number): void {
    this.schedule(generation, this.options.intervalMs);
  }

  /** The next restart attempt of an unavailable engine, one backoff step from now. */
  retryLater(generation: number): void {
    this.schedule(generation, this.nextRetryDelay());
  }

  /** Check now instead of at the next poll (a stream saw the engine fail, or it reported back). */
  checkNow(): void {
    const watched = this.subject.watched();
    if (this.closed || watched === null) return;
    if (this.checking) {
      this.recheckWanted = true;
      return;
    }
    this.cancel();
    void this.tick(watched.generation);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  close(): void {
    this.closed = true;
    this.cancel();
  }

  private schedule(generation: number, delayMs: number): void {
    this.cancel();
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick(generation);
    }, delayMs);
    this.timer.unref();
  }

  private nextRetryDelay(): number {
    const first = Math.min(250, this.options.intervalMs);
    this.retryDelayMs = this.retryDelayMs === 0 ? first : Math.min(this.retryDelayMs * 2, MAX_RETRY_DELAY_MS);
    return this.retryDelayMs;
  }

  /** Still the generation the check began with (no switch or loss since)? */
  private isCurrent(generation: number): boolean {
    return !this.closed && this.subject.watched()?.generation === generation;
  }

  /** Health poll (running) or restart attempt (unavailable); whichever outcome reschedules. */
  private async tick(generation: number): Promise<void> {
    const watched = this.subject.watched();
    if (watched === null || !this.isCurrent(generation)) return;
    this.checking = true;
    try {
      if (watched.state === 'running') await this.poll(watched.registered, generation);
      else if (watched.state === 'unavailable') await this.restart(watched.registered, generation);
    } finally {
      this.checking = false;
      if (this.recheckWanted) {
        this.recheckWanted = false;
        if (this.isCurrent(generation) && this.subject.watched()?.state === 'running') {
          this.cancel();
          void this.tick(generation);
        }
      }
    }
  }

  private async poll(target: RegisteredEngine, generation: number): Promise<void> {
    let health: EngineHealth;
    try {
      const limitMs = Math.max(this.options.intervalMs, 2000);
      health = await withTimeout(target.engine.health(), limitMs, `${target.name} health check`);
    } catch (err) {
      health = { ok: false, message: errorText(err) };
    }
    if (!this.isCurrent(generation)) return;
    if (health.ok) this.pollLater(generation);
    else this.subject.onUnhealthy(generation, health.message ?? 'health check failed');
  }

  private async restart(target: RegisteredEngine, generation: number): Promise<void> {
    const { startTimeoutMs, logger } = this.options;
    try {
      await withTimeout(target.engine.start(), startTimeoutMs, `starting ${target.name}`);
      const health = await withTimeout(target.engine.health(), startTimeoutMs, `${target.name} health check`);
      if (!health.ok) throw new Error(health.message ?? 'health check failed');
    } catch (err) {
      if (!this.isCurrent(generation)) return;
      const problem = errorText(err);
      this.subject.onStillDown(generation, problem);
      this.retryLater(generation);
      logger.debug({ engine: target.name, problem, retryInMs: this.retryDelayMs }, 'engine still unavailable');
      return;
    }
    if (!this.isCurrent(generation)) return;
    logger.warn({ engine: target.name }, 'engine is back');
    this.subject.onRecovered(generation);
  }
}
