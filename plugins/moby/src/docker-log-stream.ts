import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  EngineUnavailableError,
  containerEnding,
  isConnectionFailure,
  type ContainerRunState,
  type LogOptions,
  type LogRecord,
  type PluginLogger,
  type StreamEnding,
  type TimeCursor,
} from '@enginegate/plugin-api';
import type { DockerClient, DockerLogsQuery, LogsOwner } from './docker-client.js';
import { parserFor } from './docker-log-parsers.js';
import { DockerLineRecords } from './docker-line-records.js';
import { httpStatusOf } from './docker-errors.js';
import { dockerLogsQuery, whenUntilPassed } from './docker-logs-query.js';
import { runStateOf, whenTaskEnded } from './run-state.js';

/** Docker ending the stream of a container that still runs, this many times in a row, is a failure. */
const MAX_RESUMES_WITHOUT_PROGRESS = 5;
const RESUME_BACKOFF_MS = 100;
export interface DockerLogStreamInit {
  client: DockerClient;
  containerId: string;
  /**
   * A swarm task on another node: its logs come from `/tasks/{id}/logs` and its state from
   * `/tasks/{id}`. The broker's follow does not end when the task does, so the task's state
   * is polled while following; once it has ended, what is left is read and the exit told.
   */
  taskId?: string;
  tty: boolean;
  /** The container's log driver (`json-file`, `local`, …). */
  logDriver: string;
  /** The selection; a `tail` over 0 is already turned into `start`. */
  options: LogOptions;
  /** Skip records up to and including this one (`after=`, or where `tail=N` starts). */
  start: TimeCursor | undefined;
  /** The body `open()` already got, and what it asked. */
  firstResponse: Readable;
  firstQuery: DockerLogsQuery;
  /** Aborted by the client's signal or the engine's stop(); ends the stream quietly. */
  signal: AbortSignal;
  logger: PluginLogger;
  /** The daemon stopped answering mid-stream. */
  onDaemonLost(message: string): void;
  /** Runs once when the stream is finished, however it finished. */
  onRelease(): void;
}

/** How one Docker response ended. */
type ResponseEnd =
  | { kind: 'ended' }
  | { kind: 'broke'; error: unknown }
  | { kind: 'until-reached' }
  | { kind: 'task-ended' }
  | { kind: 'in-band-error'; message: string };

/**
 * The records of one `open()`: Docker's log body pulled chunk by chunk (`for await` — the
 * backpressure), each chunk parsed into one batch. When a followed body ends it decides why:
 * the daemon gone (throws EngineUnavailableError), the container exited (an `exit` record),
 * removed (the end), or still running (resumes right behind the last record). Docker does not
 * end a follow at `until` by itself, so a timer does, and what is left before `until` is read.
 */
export class DockerLogStream implements AsyncIterable<LogRecord[]> {
  private used = false;
  /** The last record numbered, delivered or not: where a resume continues. */
  private position: TimeCursor | undefined;

  constructor(private readonly init: DockerLogStreamInit) {
    this.position = init.start;
  }

  [Symbol.asyncIterator](): AsyncIterator<LogRecord[]> {
    if (this.used) throw new Error('a Docker log stream can be iterated once');
    this.used = true;
    return this.records();
  }

  private async *records(): AsyncGenerator<LogRecord[], void, undefined> {
    const { init } = this;
    const { options, signal } = init;
    let response: Readable | undefined = init.firstResponse;
    let query = init.firstQuery;
    let resumesWithoutProgress = 0;
    try {
      for (;;) {
        const before = this.deliveredCount;
        const end: ResponseEnd = yield* this.readResponse(response, query);
        response = undefined;
        if (signal.aborted) return;
        const delivered = this.deliveredCount - before;

        if (end.kind === 'in-band-error') {
          init.logger.warn({ container: init.containerId, message: end.message }, 'Docker failed while streaming logs');
          yield [{ type: 'error', code: 'INTERNAL', message: `Docker: ${end.message}` }];
          return;
        }
        if (end.kind === 'ended' && !query.follow) {
          // The whole selection is read. Following, `until` has passed: an exit before it is told.
          if (options.follow) {
            const ending = await this.containerEnding(false);
            if (typeof ending === 'object') yield [{ type: 'exit', exitCode: ending.exitCode }];
          }
          return;
        }
        if (end.kind === 'ended' || end.kind === 'broke') {
          // A followed stream ended, or any stream broke: only a live daemon makes that an answer.
          if (!(await this.daemonAnswers())) throw this.daemonLost(end.kind === 'broke' ? end.error : undefined);
        }
        if (end.kind === 'broke' && !query.timestamps) {
          // An untimed read has no position to resume from without sending lines twice.
          yield [this.brokeUntimed(end.error)];
          return;
        }
        if (end.kind === 'ended') {
          const ending = await this.containerEnding(true);
          if (ending === 'ended') return;
          if (ending !== 'running') {
            yield [{ type: 'exit', exitCode: ending.exitCode }];
            return;
          }
        } else if (end.kind === 'broke') {
          init.logger.warn({ container: init.containerId, err: end.error }, 'Docker log stream broke; resuming');
        }

        // Resume behind the last record: still running, broken under a live daemon, `until`
        // passed, or a remote task ended (then a last read without follow: what is left).
        if (end.kind !== 'until-reached' && end.kind !== 'task-ended') {
          resumesWithoutProgress = delivered > 0 ? 1 : resumesWithoutProgress + 1;
          if (resumesWithoutProgress > MAX_RESUMES_WITHOUT_PROGRESS) {
            yield [this.keepsEnding()];
            return;
          }
          await sleep(RESUME_BACKOFF_MS * resumesWithoutProgress, undefined, { signal }).catch(() => undefined);
          if (signal.aborted) return;
        }
        query = dockerLogsQuery(end.kind === 'task-ended' ? { ...options, follow: false } : options, this.position);
        response = await this.reopen(query);
        if (response === undefined) return; // aborted, or removed meanwhile
      }
    } finally {
      response?.destroy();
      init.onRelease();
    }
  }

  private deliveredCount = 0;

  /** Yields the batches of one response; returns how it ended. Destroys the response. */
  private async *readResponse(
    response: Readable,
    query: DockerLogsQuery,
  ): AsyncGenerator<LogRecord[], ResponseEnd, undefined> {
    const parser = parserFor(this.init, query.timestamps);
    const records = new DockerLineRecords(this.init.options, this.position, query.timestamps);
    const { sink } = records;
    const takeBatch = () => {
      const batch = records.take();
      this.position = records.position;
      this.deliveredCount += batch.length;
      return batch;
    };

    const cutShort = this.cutFollowShort(query, response);
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        parser.push(chunk, sink);
        if (records.pending > 0) yield takeBatch();
        if (parser.inBandError !== undefined) return { kind: 'in-band-error', message: parser.inBandError };
      }
    } catch (error) {
      return cutShort.why ?? { kind: 'broke', error };
    } finally {
      cutShort.stop();
      response.destroy();
      this.position = records.position; // lines skipped or not selected move it too
    }
    if (cutShort.why !== undefined) return cutShort.why;
    // An HTTP/1.0 body ends when the connection does: a cut shows only as a frame left unfinished.
    if (parser.midFrame) return { kind: 'broke', error: new Error('the Docker log body ended inside a frame') };
    parser.end(sink);
    if (records.pending > 0) yield takeBatch();
    if (!query.follow) await this.endedWithDaemonAlive();
    return { kind: 'ended' };
  }

  /**
   * Ends a followed response that Docker would not end: once `until` has passed (a timer), or
   * once a remote task has ended (polled). `why` says which, after it did.
   */
  private cutFollowShort(query: DockerLogsQuery, response: Readable): { why: ResponseEnd | undefined; stop(): void } {
    const { init } = this;
    const cut: { why: ResponseEnd | undefined; stop(): void } = { why: undefined, stop: () => undefined };
    if (!query.follow) return cut;
    const end = (why: ResponseEnd) => {
      cut.why = why;
      response.destroy();
    };
    const untilTimer = whenUntilPassed(init.options, () => end({ kind: 'until-reached' }));
    const watch = new AbortController();
    if (init.taskId !== undefined) {
      void whenTaskEnded(init.client, init.taskId, watch.signal).then((ended) => ended && end({ kind: 'task-ended' }));
    }
    cut.stop = () => {
      clearTimeout(untilTimer);
      watch.abort();
    };
    return cut;
  }

  /** The next request of a resume; undefined when aborted or the container is gone meanwhile. */
  private async reopen(query: DockerLogsQuery): Promise<Readable | undefined> {
    const { init } = this;
    try {
      return await init.client.openLogs(init.taskId ?? init.containerId, query, init.signal, logsOwner(init));
    } catch (err) {
      if (init.signal.aborted || httpStatusOf(err) === 404) return undefined;
      if (isConnectionFailure(err)) throw this.daemonLost(err);
      throw err;
    }
  }

  private brokeUntimed(cause: unknown): LogRecord {
    const message = 'the Docker log stream broke off';
    this.init.logger.warn({ container: this.init.containerId, err: cause }, message);
    return { type: 'error', code: 'INTERNAL', message };
  }

  private keepsEnding(): LogRecord {
    const message = 'Docker keeps ending the log stream of a running container';
    this.init.logger.error({ container: this.init.containerId }, message);
    return { type: 'error', code: 'INTERNAL', message };
  }

  /**
   * An HTTP/1.0 body ends with its connection, so a daemon that died between two frames ended
   * it too: only a live daemon makes the end the whole selection.
   */
  private async endedWithDaemonAlive(): Promise<void> {
    if (!(await this.daemonAnswers())) throw this.daemonLost(undefined);
  }

  private async daemonAnswers(): Promise<boolean> {
    try {
      await this.init.client.ping();
      return true;
    } catch {
      return false;
    }
  }

  private daemonLost(cause: unknown): EngineUnavailableError {
    const message = `the Docker daemon (${this.init.client.description}) stopped answering`;
    this.init.logger.warn({ container: this.init.containerId, err: cause }, message);
    this.init.onDaemonLost(message);
    return new EngineUnavailableError(message, { cause });
  }

  /** Why a followed stream ended, by the container's (or task's) state: plugin-api's containerEnding. */
  private containerEnding(expectExit: boolean): Promise<StreamEnding> {
    const { init } = this;
    return containerEnding(() => this.runState(init.signal), {
      expectExit,
      until: init.options.until,
      signal: init.signal,
    });
  }

  private async runState(signal: AbortSignal): Promise<ContainerRunState | 'removed'> {
    try {
      return await runStateOf(this.init.client, this.init, signal);
    } catch (err) {
      if (isConnectionFailure(err) && !signal.aborted) throw this.daemonLost(err);
      throw err;
    }
  }
}

function logsOwner(init: DockerLogStreamInit): LogsOwner {
  return init.taskId !== undefined ? 'tasks' : 'containers';
}
