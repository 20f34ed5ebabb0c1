import { EventEmitter } from 'node:events';
import {
  EngineUnavailableError,
  errorText,
  InvalidArgumentError,
  quoteInput,
  type Engine,
  type EngineHealth,
  type EnginePlugin,
  type EngineState,
} from '@enginegate/plugin-api';
import { EngineRegistry, type RegisteredEngine } from './engines/engine-registry.js';
import {
  notRunningError,
  type EngineChange,
  type EngineManagerOptions,
  type EngineSnapshot,
  type EngineStatus,
} from './engines/engine-status.js';
import { HealthScheduler, type HealthSubject } from './engines/health-scheduler.js';
import { pickAutomatically } from './engines/auto-pick.js';
import { withTimeout } from './engines/with-timeout.js';

export type { EngineChange, EngineManagerOptions, EngineSnapshot, EngineStatus } from './engines/engine-status.js';

/**
 * The switching state machine: which engine is active and in which state. Switches are
 * serialised (concurrent `use()` calls queue); every switch or loss bumps the generation and
 * emits 'change', which closes the open streams (1012) before the old engine is stopped. The
 * loaded engines are an EngineRegistry; when to poll or retry them is the HealthScheduler's.
 */
export class EngineManager extends EventEmitter implements HealthSubject {
  private readonly registry: EngineRegistry;
  private readonly health: HealthScheduler;
  private active: RegisteredEngine | null = null;
  private currentState: EngineState = 'stopped';
  private currentGeneration = 0;
  private switchQueue: Promise<unknown> = Promise.resolve();
  /** The first start attempt of the current generation, for `use()` to wait on. */
  private startAttempt: Promise<void> = Promise.resolve();
  /** Why the engine is unavailable, for the 503 message. */
  private problem = '';
  private closed = false;

  private readonly logger: EngineManagerOptions['logger'];
  private readonly startTimeoutMs: number;
  private readonly autoProbeTimeoutMs: number;
  private readonly useSettleMs: number;

  constructor(options: EngineManagerOptions) {
    super();
    this.logger = options.logger;
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.autoProbeTimeoutMs = options.autoProbeTimeoutMs ?? 3000;
    this.useSettleMs = options.useSettleMs ?? 2000;
    this.registry = new EngineRegistry({
      ...options,
      onHealthReport: (engine, health) => this.onHealthReport(engine, health),
    });
    this.health = new HealthScheduler(this, {
      intervalMs: options.healthIntervalMs,
      startTimeoutMs: this.startTimeoutMs,
      logger: options.logger,
    });
    // Every open stream listens; the default limit of 10 would warn for no reason.
    this.setMaxListeners(0);
  }

  get state(): EngineState {
    return this.currentState;
  }

  get activeName(): string | null {
    return this.active?.name ?? null;
  }

  get generation(): number {
    return this.currentGeneration;
  }

  get status(): EngineStatus {
    return { name: this.activeName, state: this.currentState };
  }

  /** Names of the loaded engine plugins, sorted. */
  available(): string[] {
    return this.registry.names();
  }

  has(name: string): boolean {
    return this.registry.has(name);
  }

  /** A loaded engine by name, whatever its state (for listings; streams use `snapshot()`). */
  engineNamed(name: string): Engine | undefined {
    return this.registry.get(name)?.engine;
  }

  /** Registers a plugin (see EngineRegistry.add); a PluginLoadError names it when that fails. */
  async addPlugin(spec: string, plugin: EnginePlugin): Promise<void> {
    await this.registry.add(spec, plugin);
  }

  /**
   * The running engine, or EngineUnavailableError (with a Retry-After hint). Never a half-torn
   * engine: during a switch the state is 'starting' and this throws.
   */
  snapshot(): EngineSnapshot {
    const active = this.active;
    if (active !== null && this.currentState === 'running') {
      return { name: active.name, engine: active.engine, generation: this.currentGeneration };
    }
    throw notRunningError(this.status, this.problem, this.health.retryAfterSeconds);
  }

  /**
   * Switches to `target` (an engine name, 'auto', or null to stop). Calls queue behind each
   * other. Resolves once the new engine's first start attempt settled (or after a short wait;
   * the state says which), with the status at that time. An unknown name is InvalidArgumentError.
   */
  async use(target: string | null): Promise<EngineStatus> {
    if (target !== null && target !== 'auto' && !this.registry.has(target)) {
      throw new InvalidArgumentError(
        'name',
        `unknown engine ${quoteInput(target)}: the loaded engines are ${this.available().join(', ')} (or auto, or null to stop)`,
      );
    }
    const switched = this.switchQueue.then(() => this.switchTo(target));
    this.switchQueue = switched.catch(() => undefined);
    await switched;
    let settleTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.startAttempt,
      new Promise<void>((resolve) => {
        settleTimer = setTimeout(resolve, this.useSettleMs);
      }),
    ]);
    clearTimeout(settleTimer);
    return this.status;
  }

  /** A log stream saw the engine fail under it: re-check health now instead of at the next poll. */
  checkHealthNow(): void {
    if (!this.closed) this.health.checkNow();
  }

  /** Stops the active engine and every timer, and releases each engine's scope. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.close();
    await this.switchQueue;
    const old = this.active;
    this.currentGeneration += 1;
    this.active = null;
    this.setState('stopped', 'the gateway is shutting down');
    if (old) await this.registry.stop(old);
    await this.registry.dispose();
  }

  // HealthSubject: what the scheduler reads and reports.

  watched(): ReturnType<HealthSubject['watched']> {
    if (this.closed || this.active === null) return null;
    return { registered: this.active, state: this.currentState, generation: this.currentGeneration };
  }

  onUnhealthy(generation: number, problem: string): void {
    this.becomeUnavailable(generation, problem, true);
  }

  onStillDown(generation: number, problem: string): void {
    if (generation === this.currentGeneration) this.problem = problem;
  }

  onRecovered(generation: number): void {
    this.becomeRunning(generation, `engine ${this.active?.name ?? '(none)'} recovered`);
  }

  private async switchTo(target: string | null): Promise<void> {
    if (this.closed) throw new EngineUnavailableError('the gateway is shutting down');
    const old = this.active;
    if (target !== null && target === old?.name && this.currentState !== 'stopped') {
      // Already the active engine: nothing to switch. An unavailable one is retried at once.
      if (this.currentState === 'unavailable') this.checkHealthNow();
      return;
    }
    this.health.cancel();
    this.currentGeneration += 1;
    const generation = this.currentGeneration;
    this.health.resetBackoff();
    this.startAttempt = Promise.resolve();

    if (target === null) {
      this.active = null;
      this.setState('stopped', old ? `engine ${old.name} stopped` : 'no engine');
      if (old) await this.registry.stop(old);
      this.logger.info({ from: old?.name ?? null }, 'engine stopped');
      return;
    }

    const next = target === 'auto' ? null : this.registry.get(target)!;
    this.active = next;
    this.setState(
      'starting',
      target === 'auto' ? 'engine switched: picking one (auto)' : `engine switched to ${target}`,
    );
    // Streams got their 1012 from the 'change' above; only now is the old engine stopped.
    if (old) await this.registry.stop(old);
    if (generation !== this.currentGeneration) return;

    if (next !== null) {
      this.logger.info({ engine: next.name, from: old?.name ?? null }, 'starting engine');
      this.startAttempt = this.attemptStart(generation);
      return;
    }
    await this.pickAutomatically(generation);
  }

  private async pickAutomatically(generation: number): Promise<void> {
    const pick = await pickAutomatically(this.registry, {
      probeTimeoutMs: this.autoProbeTimeoutMs,
      logger: this.logger,
      stillWanted: () => generation === this.currentGeneration,
    });
    if (pick.kind === 'abandoned') return;
    if (pick.kind === 'none') {
      this.problem = 'auto found no engine';
      this.setState('unavailable', 'engine lost: auto found no engine');
      return;
    }
    this.active = pick.registered;
    if (pick.kind === 'running') return this.becomeRunning(generation, `engine ${pick.registered.name} started (auto)`);
    this.startAttempt = this.attemptStart(generation);
    await this.startAttempt;
  }

  /** One start() of the active engine; on failure the state is 'unavailable' and a retry is scheduled. */
  private async attemptStart(generation: number): Promise<void> {
    const target = this.active;
    if (target === null) return;
    try {
      await withTimeout(target.engine.start(), this.startTimeoutMs, `starting ${target.name}`);
    } catch (err) {
      if (generation !== this.currentGeneration) return;
      this.becomeUnavailable(generation, `engine ${target.name} failed to start: ${errorText(err)}`);
      return;
    }
    if (generation !== this.currentGeneration) {
      // Switched away while it was starting. Stop it, unless a later switch made it active again.
      if (this.active?.engine !== target.engine) await this.registry.stop(target);
      return;
    }
    this.becomeRunning(generation, `engine ${target.name} started`);
  }

  private onHealthReport(engine: Engine, health: EngineHealth): void {
    const active = this.active;
    if (this.closed || active === null || active.engine !== engine) return;
    if (!health.ok && this.currentState === 'running') {
      this.becomeUnavailable(this.currentGeneration, health.message ?? 'the engine reported itself unhealthy', true);
    } else if (health.ok && this.currentState === 'unavailable') {
      this.health.resetBackoff();
      this.checkHealthNow();
    }
  }

  private becomeRunning(generation: number, reason: string): void {
    this.health.resetBackoff();
    this.problem = '';
    this.setState('running', reason);
    this.health.pollLater(generation);
  }

  /**
   * `lost`: a running engine went away. Its streams must close 1012, so this is a new
   * generation; a start that failed has no streams and keeps its generation.
   */
  private becomeUnavailable(generation: number, problem: string, lost = false): void {
    if (generation !== this.currentGeneration) return;
    this.health.cancel();
    const name = this.active?.name ?? '(none)';
    if (lost) this.currentGeneration += 1;
    this.problem = problem;
    this.logger.warn({ engine: name, problem }, lost ? 'engine lost' : 'engine unavailable');
    this.setState('unavailable', `engine lost: ${problem}`);
    this.health.retryLater(this.currentGeneration);
  }

  private setState(state: EngineState, reason: string): void {
    this.currentState = state;
    const change: EngineChange = { name: this.activeName, state, reason, generation: this.currentGeneration };
    this.emit('change', change);
  }
}
