import {
  AmbiguousContainerError,
  ContainerNotFoundError,
  EngineUnavailableError,
  InvalidArgumentError,
  looksLikeIdPrefix,
  validateContainerRef,
  type ContainerInfo,
  type ContainerRef,
  type Engine,
  type EngineHealth,
  type LogOptions,
  type LogRecord,
  type LogSource,
  type PluginLogger,
} from '@enginegate/plugin-api';
import { checkCommandSpec, type CommandSpec, type ProcessLogsConfig } from './plugin-config.js';
import { ProcessLogReader } from './process-log-reader.js';
import { SupervisedProcess } from './supervised-process.js';

/**
 * An engine whose "containers" are processes it starts itself: those of its command list when
 * it starts, and any started later with `run()`. Their output lives in memory (bounded per
 * process) while the engine runs; `stop()` stops them all and forgets them.
 */
export class ProcessLogsEngine implements Engine {
  readonly name = 'process-logs';
  readonly logs: LogSource = { open: (ref, options, signal) => this.openLogs(ref, options, signal) };

  private started = false;
  private readonly processes = new Map<string, SupervisedProcess>();
  /** Open log streams, and the process each reads. */
  private readonly readers = new Map<ProcessLogReader, SupervisedProcess>();

  constructor(
    private readonly config: ProcessLogsConfig,
    private readonly logger: PluginLogger,
  ) {}

  /** Log streams open now: back to 0 once every client has gone. */
  get openReaders(): number {
    return this.readers.size;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const spec of this.config.commands) this.run(spec);
    this.logger.info({ processes: this.processes.size }, 'process-logs engine started');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const reader of [...this.readers.keys()]) reader.close();
    const processes = [...this.processes.values()];
    this.processes.clear();
    await Promise.all(processes.map((p) => p.stop('SIGTERM', this.config.stopGraceMs)));
    this.logger.info({ processes: processes.length }, 'process-logs engine stopped');
  }

  async health(): Promise<EngineHealth> {
    return this.started ? { ok: true } : { ok: false, message: 'the process-logs engine is stopped' };
  }

  async containers(): Promise<ContainerInfo[]> {
    this.assertStarted();
    return [...this.processes.values()].map((p) => p.info());
  }

  /** Starts a process that plays a container named `spec.name` (unique). */
  run(spec: CommandSpec): ContainerInfo {
    this.assertStarted();
    const checked = checkCommandSpec(spec);
    if ([...this.processes.values()].some((p) => p.name === checked.name)) {
      throw new InvalidArgumentError('name', `a process named ${checked.name} exists already`);
    }
    const started = new SupervisedProcess(checked, this.config.maxLogBytes, this.logger);
    this.processes.set(started.id, started);
    this.logger.debug({ process: checked.name, id: started.id }, 'process started');
    return started.info();
  }

  /** Like `docker rm -f`: kills the process at once, ends its streams and forgets it. */
  async remove(ref: string): Promise<void> {
    const target = this.resolve(ref);
    this.processes.delete(target.id);
    for (const [reader, source] of [...this.readers]) if (source === target) reader.close();
    await target.stop('SIGKILL');
  }

  private async openLogs(
    ref: ContainerRef,
    options: LogOptions,
    signal: AbortSignal,
  ): Promise<AsyncIterable<LogRecord[]>> {
    this.assertStarted();
    // Resolve first: a bad reference is a 404/409 before the gateway upgrades the connection.
    const target = this.resolve(ref.ref);
    if (options.after !== undefined && options.after.kind !== 'time') {
      throw new InvalidArgumentError(
        'after',
        'this cursor is not one of the process-logs engine (it issues time cursors)',
      );
    }
    const reader = new ProcessLogReader(target.log, options, (closed) => {
      this.readers.delete(closed);
      signal.removeEventListener('abort', onAbort);
    });
    const onAbort = () => reader.close();
    this.readers.set(reader, target);
    if (signal.aborted) reader.close();
    else signal.addEventListener('abort', onAbort, { once: true });
    return reader;
  }

  /** Docker's order: a full ID, then a name, then a unique ID prefix. */
  private resolve(ref: string): SupervisedProcess {
    validateContainerRef(ref);
    const all = [...this.processes.values()];
    const exact = this.processes.get(ref) ?? all.find((p) => p.name === ref);
    if (exact) return exact;
    if (looksLikeIdPrefix(ref)) {
      const matches = all.filter((p) => p.id.startsWith(ref));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1)
        throw new AmbiguousContainerError(
          ref,
          matches.map((p) => p.id),
        );
    }
    this.logger.debug({ ref }, 'no such process');
    throw new ContainerNotFoundError(ref);
  }

  private assertStarted(): void {
    if (!this.started) throw new EngineUnavailableError('the process-logs engine is stopped');
  }
}
