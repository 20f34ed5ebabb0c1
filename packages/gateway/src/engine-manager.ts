import { EventEmitter } from 'node:events';
import type { AwilixContainer } from 'awilix';
import {
  EngineUnavailableError,
  errorText,
  InvalidArgumentError,
  type Engine,
  type EngineHealth,
  type EnginePlugin,
  type EngineState,
  type PluginLogger,
} from '@enginegate/plugin-api';
import { PluginLoadError } from './plugin-loader.js';

/** What the logs route holds on to: the engine as it was when the request came, and which generation. */
export interface EngineSnapshot {
  name: string;
  engine: Engine;
  /** Bumped on every switch and every loss; a stream of an older generation is closed 1012. */
  generation: number;
}

export interface EngineStatus {
  name: string | null;
  state: EngineState;
}

/** Emitted as 'change' on every state change; `reason` is what closing streams tell their clients. */
export interface EngineChange extends EngineStatus {
  reason: string;
  generation: number;
}

export interface EngineManagerOptions {
  /** Parent of each engine's awilix scope. */
  container: AwilixContainer;
  logger: PluginLogger & { child(bindings: object): PluginLogger };
  pluginConfig: Record<string, Record<string, unknown>>;
  healthIntervalMs: number;
  /** A start() that takes longer counts as failed (and is retried). Default 30 s. */
  startTimeoutMs?: number;
  /** How long `auto` waits for each candidate before moving on. Default 3 s. */
  autoProbeTimeoutMs?: number;
  /** How long `use()` waits for the new engine's first start attempt before answering. Default 2 s. */
  useSettleMs?: number;
}

interface RegisteredEngine {
  name: string;
  engine: Engine;
  scope: AwilixContainer;
}

/**
 * `auto` tries these in order (those that are loaded), then falls back to mock. Podman last: a
 * machine with Docker or containerd running means those; Podman is daemonless, so its service
 * answering means someone started it to be used.
 */
const AUTO_ORDER = ['moby', 'containerd', 'podman'] as const;
const FALLBACK_ENGINE = 'mock';
const STOP_TIMEOUT_MS = 5000;
const MAX_RETRY_DELAY_MS = 4000;

class TimeoutError extends Error {}

/** Races `promise` against a timer that is always cleared (no timer outlives the race). */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
    // A start or health check still pending at shutdown must not keep the process alive.
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Holds the active engine and its state. Switches are serialised (concurrent `use()` calls
 * queue); every switch or loss bumps the generation and emits 'change', which closes the open
 * streams (1012) before the old engine is stopped. A running engine is polled with `health()`
 * and reacts at once to `reportHealth`; an unavailable one is restarted with backoff.
 */
export class EngineManager extends EventEmitter {
  private readonly engines = new Map<string, RegisteredEngine>();
  private active: RegisteredEngine | null = null;
  private currentState: EngineState = 'stopped';
  private currentGeneration = 0;
  private switchQueue: Promise<unknown> = Promise.resolve();
  /** The first start attempt of the current generation, for `use()` to wait on. */
  private startAttempt: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private recheckWanted = false;
  private retryDelayMs = 0;
  /** Why the engine is unavailable, for the 503 message. */
  private problem = '';
  private closed = false;

  private readonly logger: EngineManagerOptions['logger'];
  private readonly startTimeoutMs: number;
  private readonly autoProbeTimeoutMs: number;
  private readonly useSettleMs: number;

  constructor(private readonly options: EngineManagerOptions) {
    super();
    this.logger = options.logger;
    this.startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.autoProbeTimeoutMs = options.autoProbeTimeoutMs ?? 3000;
    this.useSettleMs = options.useSettleMs ?? 2000;
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
    return [...this.engines.keys()].sort();
  }

  has(name: string): boolean {
    return this.engines.has(name);
  }

  /** A loaded engine by name, whatever its state (for listings; streams use `snapshot()`). */
  engineNamed(name: string): Engine | undefined {
    return this.engines.get(name)?.engine;
  }

  /**
   * Registers a plugin: gives it its own awilix scope and calls `register`. Throws a
   * PluginLoadError naming the plugin when `register` throws or returns no engine.
   */
  async addPlugin(spec: string, plugin: EnginePlugin): Promise<void> {
    if (this.engines.has(plugin.name)) {
      throw new PluginLoadError(spec, `plugin ${spec}: an engine named "${plugin.name}" is loaded already`);
    }
    const scope = this.options.container.createScope();
    const logger = this.logger.child({ engine: plugin.name });
    let engine: Engine;
    try {
      engine = await plugin.register(scope, {
        config: Object.freeze({ ...(this.options.pluginConfig[plugin.name] ?? {}) }),
        logger,
        reportHealth: (health) => this.onHealthReport(engine, health),
      });
    } catch (err) {
      void scope.dispose();
      throw new PluginLoadError(spec, `plugin ${spec} (name "${plugin.name}") failed in register: ${errorText(err)}`, {
        cause: err,
      });
    }
    const shapeProblem = engineShapeProblem(engine);
    if (shapeProblem !== undefined) {
      void scope.dispose();
      throw new PluginLoadError(
        spec,
        `plugin ${spec} (name "${plugin.name}") returned no usable engine from register: ${shapeProblem}`,
      );
    }
    this.engines.set(plugin.name, { name: plugin.name, engine, scope });
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
    switch (this.currentState) {
      case 'starting':
        throw new EngineUnavailableError(
          active ? `engine ${active.name} is starting` : 'an engine is being picked (auto)',
          { retryAfterSeconds: 1 },
        );
      case 'unavailable':
        throw new EngineUnavailableError(`engine ${active?.name ?? '(none)'} is unavailable: ${this.problem}`, {
          retryAfterSeconds: Math.max(1, Math.ceil(this.retryDelayMs / 1000)),
        });
      default:
        throw new EngineUnavailableError('no engine is active: choose one with PUT /engine', { retryAfterSeconds: 5 });
    }
  }

  /**
   * Switches to `target` (an engine name, 'auto', or null to stop). Calls queue behind each
   * other. Resolves once the new engine's first start attempt settled (or after a short wait;
   * the state says which), with the status at that time. An unknown name is InvalidArgumentError.
   */
  async use(target: string | null): Promise<EngineStatus> {
    if (target !== null && target !== 'auto' && !this.engines.has(target)) {
      throw new InvalidArgumentError(
        'name',
        `unknown engine ${JSON.stringify(target)}: the loaded engines are ${this.available().join(', ')} (or auto, or null to stop)`,
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
    if (this.closed || this.active === null) return;
    if (this.checking) {
      this.recheckWanted = true;
      return;
    }
    this.clearTimer();
    void this.tick(this.currentGeneration);
  }

  /** Stops the active engine and every timer, and releases each engine's scope. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    await this.switchQueue;
    const old = this.active;
    this.currentGeneration += 1;
    this.active = null;
    this.setState('stopped', 'the gateway is shutting down');
    if (old) await this.stopQuietly(old);
    for (const registered of this.engines.values()) await registered.scope.dispose();
  }

  private async switchTo(target: string | null): Promise<void> {
    if (this.closed) throw new EngineUnavailableError('the gateway is shutting down');
    const old = this.active;
    if (target !== null && target === old?.name && this.currentState !== 'stopped') {
      // Already the active engine: nothing to switch. An unavailable one is retried at once.
      if (this.currentState === 'unavailable') this.checkHealthNow();
      return;
    }
    this.clearTimer();
    this.currentGeneration += 1;
    const generation = this.currentGeneration;
    this.retryDelayMs = 0;
    this.startAttempt = Promise.resolve();

    if (target === null) {
      this.active = null;
      this.setState('stopped', old ? `engine ${old.name} stopped` : 'no engine');
      if (old) await this.stopQuietly(old);
      this.logger.info({ from: old?.name ?? null }, 'engine stopped');
      return;
    }

    const next = target === 'auto' ? null : this.engines.get(target)!;
    this.active = next;
    this.setState(
      'starting',
      target === 'auto' ? 'engine switched: picking one (auto)' : `engine switched to ${target}`,
    );
    // Streams got their 1012 from the 'change' above; only now is the old engine stopped.
    if (old) await this.stopQuietly(old);
    if (generation !== this.currentGeneration) return;

    if (next !== null) {
      this.logger.info({ engine: next.name, from: old?.name ?? null }, 'starting engine');
      this.startAttempt = this.attemptStart(generation);
      return;
    }
    await this.pickAutomatically(generation);
  }

  /** auto: the first of moby, containerd, podman (those loaded) that starts and is healthy; else mock. */
  private async pickAutomatically(generation: number): Promise<void> {
    const tried: string[] = [];
    for (const name of AUTO_ORDER) {
      const candidate = this.engines.get(name);
      if (!candidate) continue;
      try {
        await withTimeout(candidate.engine.start(), this.autoProbeTimeoutMs, `starting ${name}`);
        const health = await withTimeout(candidate.engine.health(), this.autoProbeTimeoutMs, `${name} health check`);
        if (!health.ok) throw new Error(health.message ?? 'unhealthy');
      } catch (err) {
        tried.push(`${name}: ${errorText(err)}`);
        this.logger.info(
          { engine: name, reason: errorText(err) },
          `auto: engine ${name} is not reachable, trying the next one`,
        );
        await this.stopQuietly(candidate);
        if (generation !== this.currentGeneration) return;
        continue;
      }
      if (generation !== this.currentGeneration) {
        await this.stopQuietly(candidate);
        return;
      }
      this.logger.info({ engine: name }, `auto: picked ${name}: it started and reports healthy`);
      this.active = candidate;
      this.becomeRunning(generation, `engine ${name} started (auto)`);
      return;
    }
    const fallback = this.engines.get(FALLBACK_ENGINE);
    if (!fallback) {
      this.problem = 'auto found no engine';
      this.setState('unavailable', 'engine lost: auto found no engine');
      return;
    }
    this.logger.info(
      { engine: FALLBACK_ENGINE, tried },
      tried.length > 0
        ? `auto: picked ${FALLBACK_ENGINE}: no other engine was reachable (${tried.join('; ')})`
        : `auto: picked ${FALLBACK_ENGINE}: no moby, containerd or podman plugin is loaded`,
    );
    this.active = fallback;
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
      if (this.active?.engine !== target.engine) await this.stopQuietly(target);
      return;
    }
    this.becomeRunning(generation, `engine ${target.name} started`);
  }

  /** Health poll (running) or restart attempt (unavailable); reschedules itself. */
  private async tick(generation: number): Promise<void> {
    const target = this.active;
    if (this.closed || target === null || generation !== this.currentGeneration) return;
    this.checking = true;
    try {
      if (this.currentState === 'running') {
        let health: EngineHealth;
        try {
          health = await withTimeout(
            target.engine.health(),
            Math.max(this.options.healthIntervalMs, 2000),
            `${target.name} health check`,
          );
        } catch (err) {
          health = { ok: false, message: errorText(err) };
        }
        if (generation !== this.currentGeneration) return;
        if (health.ok) this.schedule(generation, this.options.healthIntervalMs);
        else this.becomeUnavailable(generation, health.message ?? 'health check failed', true);
      } else if (this.currentState === 'unavailable') {
        try {
          await withTimeout(target.engine.start(), this.startTimeoutMs, `starting ${target.name}`);
          const health = await withTimeout(target.engine.health(), this.startTimeoutMs, `${target.name} health check`);
          if (!health.ok) throw new Error(health.message ?? 'health check failed');
        } catch (err) {
          if (generation !== this.currentGeneration) return;
          this.problem = errorText(err);
          const delayMs = this.nextRetryDelay();
          this.logger.debug(
            { engine: target.name, problem: this.problem, retryInMs: delayMs },
            'engine still unavailable',
          );
          this.schedule(generation, delayMs);
          return;
        }
        if (generation !== this.currentGeneration) return;
        this.logger.warn({ engine: target.name }, 'engine is back');
        this.becomeRunning(generation, `engine ${target.name} recovered`);
      }
    } finally {
      this.checking = false;
      if (this.recheckWanted) {
        this.recheckWanted = false;
        if (generation === this.currentGeneration && this.currentState === 'running') {
          this.clearTimer();
          void this.tick(generation);
        }
      }
    }
  }

  private onHealthReport(engine: Engine, health: EngineHealth): void {
    const active = this.active;
    if (this.closed || active === null || active.engine !== engine) return;
    if (!health.ok && this.currentState === 'running') {
      this.becomeUnavailable(this.currentGeneration, health.message ?? 'the engine reported itself unhealthy', true);
    } else if (health.ok && this.currentState === 'unavailable') {
      this.retryDelayMs = 0;
      this.checkHealthNow();
    }
  }

  private becomeRunning(generation: number, reason: string): void {
    this.retryDelayMs = 0;
    this.problem = '';
    this.setState('running', reason);
    this.schedule(generation, this.options.healthIntervalMs);
  }

  /**
   * `lost`: a running engine went away. Its streams must close 1012, so this is a new
   * generation; a start that failed has no streams and keeps its generation.
   */
  private becomeUnavailable(generation: number, problem: string, lost = false): void {
    if (generation !== this.currentGeneration) return;
    this.clearTimer();
    const name = this.active?.name ?? '(none)';
    if (lost) this.currentGeneration += 1;
    this.problem = problem;
    this.logger.warn({ engine: name, problem }, lost ? 'engine lost' : 'engine unavailable');
    this.setState('unavailable', `engine lost: ${problem}`);
    this.schedule(this.currentGeneration, this.nextRetryDelay());
  }

  private nextRetryDelay(): number {
    const first = Math.min(250, this.options.healthIntervalMs);
    this.retryDelayMs = this.retryDelayMs === 0 ? first : Math.min(this.retryDelayMs * 2, MAX_RETRY_DELAY_MS);
    return this.retryDelayMs;
  }

  private schedule(generation: number, delayMs: number): void {
    this.clearTimer();
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick(generation);
    }, delayMs);
    // Health polling alone must not keep a process alive.
    this.timer.unref();
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setState(state: EngineState, reason: string): void {
    this.currentState = state;
    const change: EngineChange = { name: this.activeName, state, reason, generation: this.currentGeneration };
    this.emit('change', change);
  }

  private async stopQuietly(registered: RegisteredEngine): Promise<void> {
    try {
      await withTimeout(registered.engine.stop(), STOP_TIMEOUT_MS, `stopping ${registered.name}`);
    } catch (err) {
      this.logger.warn({ engine: registered.name, err: errorText(err) }, 'engine did not stop cleanly');
    }
  }
}

function engineShapeProblem(engine: unknown): string | undefined {
  if (engine === null || typeof engine !== 'object') return `got ${engine === null ? 'null' : typeof engine}`;
  const e = engine as Partial<Engine>;
  for (const method of ['start', 'stop', 'health', 'containers'] as const) {
    if (typeof e[method] !== 'function') return `it has no ${method}() method`;
  }
  if (typeof e.logs?.open !== 'function') return 'it has no logs.open() method';
  return undefined;
}
