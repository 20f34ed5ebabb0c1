import {
  InvalidArgumentError,
  validateContainerRef,
  type ContainerRef,
  type LogOptions,
  type LogRecord,
  type LogSource,
  type PluginLogger,
} from '@enginegate/plugin-api';
import type { ContainerdClient, ContainerdContainer } from './containerd-client.js';
import { ContainerResolver } from './container-resolver.js';
import { JournaldStream } from './journald-stream.js';
import { LogFileStream } from './log-file-stream.js';
import { LogLocator, type LogLocation } from './log-location.js';
import type { LogRoots } from './log-roots.js';
import type { ContainerdPluginConfig } from './plugin-config.js';
import type { TaskExitMonitor, TaskWatch } from './task-exit-monitor.js';

/** What a log source needs from a started engine. */
export interface ContainerdConnection {
  client: ContainerdClient;
  monitor: TaskExitMonitor;
}

/**
 * `LogSource` for containerd: resolves the reference and locates the log before returning (so
 * 400/404/409/501/503 come before any upgrade), then hands the reading to a `LogFileStream` or
 * `JournaldStream`. Every open stream is tracked so that the engine's `stop()` ends them all.
 */
export class ContainerdLogSource implements LogSource {
  private readonly open_ = new Set<AbortController>();

  constructor(
    /** The current connection; throws EngineUnavailableError when the engine is not started. */
    private readonly connection: () => ContainerdConnection,
    private readonly roots: LogRoots,
    private readonly config: ContainerdPluginConfig,
    private readonly logger: PluginLogger,
  ) {}

  /** Streams opened and not yet released. */
  get openStreams(): number {
    return this.open_.size;
  }

  /** Ends every open stream (engine stop). */
  closeAll(): void {
    for (const controller of [...this.open_]) controller.abort();
  }

  async open(ref: ContainerRef, options: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogRecord[]>> {
    validateContainerRef(ref.ref);
    const { client, monitor } = this.connection();
    const container = await new ContainerResolver(client).resolve(ref);
    const task = await client.getTask(container.namespace, container.id);
    const location = await new LogLocator(client, this.roots, this.logger).locate(container, task);
    checkOptionsFit(location, options);
    this.logger.debug(
      {
        container: container.id,
        namespace: container.namespace,
        log: location.kind === 'file' ? location.path : location.identifier,
      },
      'containerd log located',
    );

    // One controller per stream: aborted by the caller's signal or by the engine's stop().
    // Counted before the caller's signal is looked at: a caller that gave up while the daemon
    // was answering (a hung daemon, SIGCONTed) aborts it at once, and it is uncounted at once.
    const controller = new AbortController();
    const forward = () => controller.abort();
    this.open_.add(controller);
    controller.signal.addEventListener(
      'abort',
      () => {
        this.open_.delete(controller);
        signal.removeEventListener('abort', forward);
      },
      { once: true },
    );
    if (signal.aborted) controller.abort();
    else signal.addEventListener('abort', forward, { once: true });

    const taskWatch = options.follow ? this.taskWatch(container, client, monitor) : undefined;
    const stream =
      location.kind === 'file'
        ? new LogFileStream({
            path: location.path,
            format: location.format,
            rotation: location.rotation,
            options,
            task: taskWatch,
            roots: this.roots,
            logger: this.logger,
            signal: controller.signal,
            pollIntervalMs: this.config.pollIntervalMs,
            exitSettleMs: this.config.exitSettleMs,
            writerClosesAtExit: location.writerClosesAtExit,
          })
        : new JournaldStream({
            identifier: location.identifier,
            journalctlPath: this.config.journalctlPath,
            options,
            task: taskWatch,
            logger: this.logger,
            signal: controller.signal,
            exitSettleMs: this.config.exitSettleMs,
          });
    return releasingWhenDone(stream, controller);
  }

  /** Registers for the exit first, then asks for the task's state: no exit falls between. */
  private taskWatch(container: ContainerdContainer, client: ContainerdClient, monitor: TaskExitMonitor): TaskWatch {
    let unwatch: (() => void) | null = null;
    const end = () => {
      unwatch?.();
      unwatch = null;
    };
    return {
      async begin(onExit) {
        unwatch = monitor.watch(container.namespace, container.id, onExit);
        const task = await client.getTask(container.namespace, container.id);
        if (!task || task.status === 'STOPPED') {
          end();
          return { exitCode: task ? task.exitStatus : null };
        }
        return 'running';
      },
      end,
    };
  }
}

/** A raw log has no times and byte cursors; a timestamped one has time cursors only. */
function checkOptionsFit(location: LogLocation, options: LogOptions): void {
  const timestamped = location.kind === 'journald' || location.format.timestamped;
  if (options.after) {
    if (options.after.kind === 'byte' && timestamped) {
      throw new InvalidArgumentError(
        'after',
        'after= is a byte cursor, but this container’s log is timestamped: use a cursor it returned',
      );
    }
    if (options.after.kind === 'time' && !timestamped) {
      throw new InvalidArgumentError(
        'after',
        'after= is a time cursor, but this container’s log (a raw file) has no times',
      );
    }
  }
  if (!timestamped) {
    for (const name of ['since', 'until'] as const) {
      if (options[name] !== undefined) {
        throw new InvalidArgumentError(name, `${name} cannot apply: this container logs to a raw file without times`);
      }
    }
  }
}

/** The stream's iterator, which also drops its controller from the engine's set when it ends. */
function releasingWhenDone(
  stream: AsyncIterable<LogRecord[]>,
  controller: AbortController,
): AsyncIterable<LogRecord[]> {
  return {
    [Symbol.asyncIterator]() {
      const inner = stream[Symbol.asyncIterator]();
      const done = () => {
        if (!controller.signal.aborted) controller.abort();
      };
      return {
        async next() {
          try {
            const result = await inner.next();
            if (result.done) done();
            return result;
          } catch (err) {
            done();
            throw err;
          }
        },
        async return(value?: unknown) {
          done();
          return (await inner.return?.(value)) ?? { done: true, value: undefined };
        },
      };
    },
  };
}
