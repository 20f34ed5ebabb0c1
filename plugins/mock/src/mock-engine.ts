import {
  AmbiguousContainerError,
  ContainerNotFoundError,
  EngineUnavailableError,
  InvalidArgumentError,
  cutInput,
  looksLikeIdPrefix,
  validateContainerRef,
  type ContainerEvent,
  type ContainerInfo,
  type ContainerRef,
  type Engine,
  type EngineHealth,
  type LogOptions,
  type LogRecord,
  type LogSource,
  type PluginLogger,
} from '@enginegate/plugin-api';
import { builtinContainerSpecs } from './builtin-containers.js';
import { systemClock, type Clock } from './clock.js';
import { demoProjectContainers } from './demo-project.js';
import { MockEvents } from './mock-events.js';
import { MockLogReader, type ReadPlan } from './mock-log-reader.js';
import { SimulatedContainer, type MockContainerSpec } from './simulated-container.js';

export interface MockEngineOptions {
  logger?: PluginLogger;
  /** Add mock-chatty, mock-tty, mock-bytes and mock-exit on start (default true). */
  builtinContainers?: boolean;
  /** Run Compose project 'demo' (see demo-project.ts) on start; default: as `builtinContainers`. */
  demoProject?: boolean;
  /** For tests that pin time. Followers still sleep in real time until the clock says a line is due. */
  clock?: Clock;
}

const silentLogger: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * An engine of simulated containers: no daemon, real timestamps. Containers live while the
 * engine runs; `stop()` ends every open stream and forgets them, `start()` brings the
 * built-ins back (with fresh times, same IDs).
 */
export class MockEngine implements Engine {
  readonly name = 'mock' as const;
  readonly logs: LogSource = { open: (ref, options, signal) => this.openLogs(ref, options, signal) };

  private started = false;
  private readonly byId = new Map<string, SimulatedContainer>();
  private readonly byName = new Map<string, SimulatedContainer>();
  private readonly readers = new Set<MockLogReader>();
  private readonly logger: PluginLogger;
  private readonly clock: Clock;
  private readonly withBuiltins: boolean;
  private readonly withDemo: boolean;
  private readonly mockEvents: MockEvents;
  /** Demo containers that start later, until they do (or the engine stops). */
  private readonly pendingStarts = new Set<NodeJS.Timeout>();

  constructor(options: MockEngineOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.withBuiltins = options.builtinContainers ?? true;
    this.withDemo = options.demoProject ?? this.withBuiltins;
    this.mockEvents = new MockEvents(this.clock);
  }

  /** Log readers currently open: back to 0 once every client has gone. */
  get activeReaders(): number {
    return this.readers.size;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.withBuiltins) {
      for (const spec of builtinContainerSpecs()) {
        // A container added before start() may already use a built-in's name; it wins.
        if (!this.byName.has(spec.name)) this.addContainer(spec);
      }
    }
    if (this.withDemo) this.startDemoProject();
    this.logger.info({ containers: this.byId.size }, 'mock engine started');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const timer of this.pendingStarts) clearTimeout(timer);
    this.pendingStarts.clear();
    this.mockEvents.close(new EngineUnavailableError('the mock engine was stopped'));
    for (const reader of [...this.readers]) reader.close();
    this.byId.clear();
    this.byName.clear();
    this.logger.info('mock engine stopped');
  }

  async health(): Promise<EngineHealth> {
    return this.started ? { ok: true } : { ok: false, message: 'mock engine is stopped' };
  }

  async containers(): Promise<ContainerInfo[]> {
    this.assertStarted();
    const now = this.clock();
    return [...this.byId.values()].map((container) => container.info(now));
  }

  /** Container events from now on: create and start on add, die at the exit time, destroy on remove. */
  async events(signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>> {
    this.assertStarted();
    return this.mockEvents.subscribe(signal);
  }

  /** Adds a simulated container, created now. Its name (and ID) must be unique. */
  addContainer(spec: MockContainerSpec): ContainerInfo {
    const container = new SimulatedContainer(spec, this.clock());
    if (this.byName.has(container.name)) {
      throw new InvalidArgumentError('name', `a mock container named ${container.name} exists already`);
    }
    if (this.byId.has(container.id)) {
      throw new InvalidArgumentError('id', `a mock container with id ${container.id} exists already`);
    }
    this.byId.set(container.id, container);
    this.byName.set(container.name, container);
    this.mockEvents.added(container);
    return container.info(this.clock());
  }

  /** Removes a container at once, like `docker rm -f`: its open streams end. */
  removeContainer(ref: string): void {
    const container = this.resolve(ref);
    this.byId.delete(container.id);
    this.byName.delete(container.name);
    this.mockEvents.removed(container);
    for (const reader of [...this.readers]) {
      if (reader.container === container) reader.close();
    }
  }

  /** The demo project's containers now, and the one that starts later on a timer. */
  private startDemoProject(): void {
    for (const { spec, startAfterMs } of demoProjectContainers()) {
      if (this.byName.has(spec.name)) continue;
      if (startAfterMs === 0) {
        this.addContainer(spec);
        continue;
      }
      const timer = setTimeout(() => {
        this.pendingStarts.delete(timer);
        if (this.started && !this.byName.has(spec.name)) this.addContainer(spec);
      }, startAfterMs);
      timer.unref();
      this.pendingStarts.add(timer);
    }
  }

  private async openLogs(
    ref: ContainerRef,
    options: LogOptions,
    signal: AbortSignal,
  ): Promise<AsyncIterable<LogRecord[]>> {
    this.assertStarted();
    const container = this.resolve(ref.ref);
    const plan = this.planRead(container, options);
    const reader = new MockLogReader(container, plan, this.clock, this.logger, (closed) => {
      this.readers.delete(closed);
      signal.removeEventListener('abort', onAbort);
    });
    const onAbort = () => reader.close();
    this.readers.add(reader);
    if (signal.aborted) reader.close();
    else signal.addEventListener('abort', onAbort, { once: true });
    return reader;
  }

  /** Docker's order: a full ID, then a name, then a unique ID prefix. */
  private resolve(ref: string): SimulatedContainer {
    validateContainerRef(ref);
    const exact = this.byId.get(ref) ?? this.byName.get(ref);
    if (exact) return exact;
    if (looksLikeIdPrefix(ref)) {
      const matches = [...this.byId.values()].filter((container) => container.id.startsWith(ref));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) {
        this.logger.debug({ ref: cutInput(ref) }, 'ambiguous mock container reference');
        throw new AmbiguousContainerError(
          ref,
          matches.map((container) => container.id),
        );
      }
    }
    // A client's reference (up to 255 bytes): a log line repeats at most 64 characters of it.
    this.logger.debug({ ref: cutInput(ref) }, 'no such mock container');
    throw new ContainerNotFoundError(ref);
  }

  /**
   * Turns the options into index bounds, at the time of opening. As Docker: `since` and
   * `until` are inclusive; `tail` counts the last lines of both streams (the stream selection
   * applies after it, so `tail=10&stderr=false` may give fewer than 10); `after` replaces `tail`.
   */
  private planRead(container: SimulatedContainer, options: LogOptions): ReadPlan {
    const { follow, tail, since, until, after, stdout, stderr } = options;
    if (!stdout && !stderr) {
      throw new InvalidArgumentError('stdout', 'choose at least one of stdout and stderr');
    }
    if (tail !== undefined && !(Number.isSafeInteger(tail) && tail >= 0)) {
      throw new InvalidArgumentError('tail', `tail must be a whole number >= 0, not ${tail}`);
    }
    if (after !== undefined && after.kind !== 'time') {
      throw new InvalidArgumentError(
        'after',
        'the mock engine issues time cursors only; this cursor is from another engine',
      );
    }
    const untilStop = until === undefined ? container.lineCount : container.firstLineAfter(until);
    const writtenNow = Math.min(container.writtenBy(this.clock()), untilStop);
    let from = since === undefined ? 0 : container.firstLineAtOrAfter(since);
    if (after !== undefined) from = Math.max(from, container.firstLineBehind(after));
    else if (tail !== undefined) from = Math.max(from, writtenNow - tail);
    const plan: ReadPlan = { from, stop: follow ? untilStop : writtenNow, follow, stdout, stderr };
    if (until !== undefined) plan.until = until;
    return plan;
  }

  private assertStarted(): void {
    if (!this.started) throw new EngineUnavailableError('the mock engine is stopped');
  }
}
