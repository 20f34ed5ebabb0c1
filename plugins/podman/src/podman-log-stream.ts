import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  EngineUnavailableError,
  NS_PER_MS,
  containerEnding,
  isConnectionFailure,
  nowNanos,
  parseRfc3339,
  type LogOptions,
  type LogRecord,
  type PluginLogger,
  type StreamEnding,
  type UnixNanos,
} from '@enginegate/plugin-api';
import type { LibpodClient, LibpodLogsQuery } from './libpod-client.js';
import { libpodLogsQuery, untilExclusive } from './libpod-logs-query.js';
import { isContainerGone } from './podman-errors.js';
import { PodmanLogParser, type ParsedRecord } from './podman-log-parser.js';
import { comparePositions, encodeRecordCursor, type RecordPosition } from './record-position.js';

/** Podman ending the stream of a container that still runs, this many times in a row, is a failure. */
const MAX_RESUMES_WITHOUT_PROGRESS = 5;
const RESUME_BACKOFF_MS = 100;
/** setTimeout's limit; an `until` further away than ~24 days is never reached by a timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** conmon stamps an entry as it reads it, a moment before it is in the log file Podman follows. */
const UNTIL_GRACE_MS = 100;

/** Where delivery starts: behind a record of this plugin, behind a time (another engine's cursor), or at the first record read. */
export type LogStart =
  { kind: 'position'; position: RecordPosition } | { kind: 'after-time'; time: UnixNanos } | { kind: 'first' };

export interface PodmanLogStreamInit {
  client: LibpodClient;
  containerId: string;
  /** The selection (a `tail` is already turned into `start`). */
  options: LogOptions;
  start: LogStart;
  /** The parser the first response is read with (set up for the read's start). */
  parser: PodmanLogParser;
  /** The first instant the first query reads (undefined: the log's start). */
  readFrom: UnixNanos | undefined;
  /** The response `open()` already got, and what it asked. */
  firstResponse: IncomingMessage;
  firstQuery: LibpodLogsQuery;
  /** Aborted by the client's signal or the engine's stop(); ends the stream quietly. */
  signal: AbortSignal;
  logger: PluginLogger;
  /** The service stopped answering mid-stream. */
  onServiceLost(message: string): void;
  /** Runs once when the stream is finished, however it finished. */
  onRelease(): void;
}

/** How one libpod response ended. */
type ResponseEnd =
  | { kind: 'ended' }
  | { kind: 'broke'; error: unknown }
  | { kind: 'until-reached' }
  | { kind: 'stopped' }
  | { kind: 'in-band-error'; message: string };

/**
 * The records of one `open()`: Podman's log body pulled chunk by chunk (`for await` — the
 * backpressure), each chunk one batch. When a followed body ends it decides why: the service
 * gone (throws EngineUnavailableError), the container exited (an `exit` record), removed (the
 * end), or still running (resumes behind the last entry, open lines kept). Podman does not end
 * a follow at `until`: a timer does, and what is left up to it is read.
 */
export class PodmanLogStream implements AsyncIterable<LogRecord[]> {
  private used = false;
  private delivered = 0;

  constructor(private readonly init: PodmanLogStreamInit) {}

  [Symbol.asyncIterator](): AsyncIterator<LogRecord[]> {
    if (this.used) throw new Error('a Podman log stream can be iterated once');
    this.used = true;
    return this.records();
  }

  /**
   * One loop over responses, kept in one function on purpose: each turn reads a response and
   * decides, in the order the checks must run (in-band error, end of the selection, service
   * alive, container state, resume budget), whether the stream ends or reads the next one.
   */
  // eslint-disable-next-line max-lines-per-function -- one loop over responses on purpose: the checks' order is the point (above)
  private async *records(): AsyncGenerator<LogRecord[], void, undefined> {
    const { init } = this;
    const { options, signal, parser } = init;
    let response: IncomingMessage | undefined = init.firstResponse;
    let query = init.firstQuery;
    let resumesWithoutProgress = 0;
    try {
      for (;;) {
        const before = this.delivered;
        const end: ResponseEnd = yield* this.readResponse(response, query);
        response = undefined;
        if (signal.aborted) return;
        if (end.kind === 'in-band-error') {
          init.logger.warn({ container: init.containerId, message: end.message }, 'Podman failed while streaming logs');
          yield [{ type: 'error', code: 'INTERNAL', message: `Podman: ${end.message}` }];
          return;
        }
        if (end.kind === 'stopped' || (end.kind === 'ended' && !query.follow)) {
          // The whole selection is read. Following, `until` has passed: an exit before it is told.
          const ending = options.follow && end.kind === 'ended' ? await this.containerEnding(false) : 'ended';
          yield* this.finish(ending);
          return;
        }
        if (end.kind !== 'until-reached' && !(await this.serviceAnswers())) {
          throw this.serviceLost(end.kind === 'broke' ? end.error : undefined);
        }
        if (end.kind === 'ended') {
          const ending = await this.containerEnding(true);
          if (ending !== 'running') {
            yield* this.finish(ending);
            return;
          }
        } else if (end.kind === 'broke') {
          init.logger.warn({ container: init.containerId, err: end.error }, 'Podman log stream broke; resuming');
        }
        if (end.kind !== 'until-reached') {
          resumesWithoutProgress = this.delivered > before ? 1 : resumesWithoutProgress + 1;
          if (resumesWithoutProgress > MAX_RESUMES_WITHOUT_PROGRESS) {
            const message = 'Podman keeps ending the log stream of a running container';
            init.logger.error({ container: init.containerId }, message);
            yield [{ type: 'error', code: 'INTERNAL', message }];
            return;
          }
          await sleep(RESUME_BACKOFF_MS * resumesWithoutProgress, undefined, { signal }).catch(() => undefined);
          if (signal.aborted) return;
        }
        const last = parser.lastEntry;
        if (last !== undefined) parser.resumeAfterLastEntry();
        query = libpodLogsQuery(options, last?.instant ?? init.readFrom);
        try {
          response = await init.client.openLogs(init.containerId, query, signal);
        } catch (err) {
          if (signal.aborted) return;
          if (isContainerGone(err)) {
            yield* this.finish('ended'); // removed meanwhile
            return;
          }
          if (isConnectionFailure(err)) throw this.serviceLost(err);
          throw err;
        }
      }
    } finally {
      response?.destroy();
      init.onRelease();
    }
  }

  /** The lines without an end are flushed, then the exit record if there is one. */
  private *finish(ending: StreamEnding): Generator<LogRecord[], void, undefined> {
    const batch: LogRecord[] = [];
    this.init.parser.end(this.selecting((record) => batch.push(record)));
    if (typeof ending === 'object') batch.push({ type: 'exit', exitCode: ending.exitCode });
    this.delivered += batch.length;
    if (batch.length > 0) yield batch;
  }

  /** A parser sink that hands on the records the client selected, with their cursors. */
  private selecting(deliver: (record: LogRecord) => void) {
    const { options, start } = this.init;
    return (record: ParsedRecord, position: RecordPosition) => {
      if (start.kind === 'position' && comparePositions(position, start.position) <= 0) return;
      if (start.kind === 'after-time' && record.time <= start.time) return;
      if (record.stream === 'stdout' ? !options.stdout : !options.stderr) return;
      if (options.since !== undefined && record.time < options.since) return;
      if (options.until !== undefined && record.time > options.until) return;
      const cursor = encodeRecordCursor(record.time, position);
      const { stream, time, line } = record;
      deliver(
        record.partial
          ? { type: 'line', stream, time, line, cursor, partial: true }
          : { type: 'line', stream, time, line, cursor },
      );
    };
  }

  /** Yields the batches of one response; returns how it ended. Destroys the response. */
  private async *readResponse(
    response: IncomingMessage,
    query: LibpodLogsQuery,
  ): AsyncGenerator<LogRecord[], ResponseEnd, undefined> {
    const { options, parser } = this.init;
    let batch: LogRecord[] = [];
    const sink = this.selecting((record) => batch.push(record));
    const take = () => {
      const full = batch;
      batch = [];
      this.delivered += full.length;
      return full;
    };
    let untilReached = false;
    let untilTimer: NodeJS.Timeout | undefined;
    const until = untilExclusive(options);
    if (query.follow && until !== undefined) {
      const waitMs = Number((until - nowNanos()) / NS_PER_MS) + UNTIL_GRACE_MS;
      if (waitMs < MAX_TIMER_MS) {
        untilTimer = setTimeout(
          () => {
            untilReached = true;
            response.destroy();
          },
          Math.max(0, waitMs),
        );
      }
    }
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        parser.push(chunk, sink);
        if (batch.length > 0) yield take();
        if (parser.inBandError !== undefined) return { kind: 'in-band-error', message: parser.inBandError };
        if (parser.stopped) return { kind: 'stopped' };
      }
    } catch (error) {
      return untilReached ? { kind: 'until-reached' } : { kind: 'broke', error };
    } finally {
      clearTimeout(untilTimer);
      response.destroy();
    }
    return untilReached ? { kind: 'until-reached' } : { kind: 'ended' };
  }

  private async serviceAnswers(): Promise<boolean> {
    try {
      await this.init.client.ping();
      return true;
    } catch {
      return false;
    }
  }

  private serviceLost(cause: unknown): EngineUnavailableError {
    const message = `the Podman service (${this.init.client.description}) stopped answering`;
    this.init.logger.warn({ container: this.init.containerId, err: cause }, message);
    this.init.onServiceLost(message);
    return new EngineUnavailableError(message, { cause });
  }

  /** Why a followed stream ended, by the container's state (plugin-api's containerEnding). */
  private containerEnding(expectExit: boolean): Promise<StreamEnding> {
    const { init } = this;
    return containerEnding(
      async () => {
        let state;
        try {
          state = (await init.client.inspect(init.containerId, init.signal)).State;
        } catch (err) {
          if (isContainerGone(err)) return 'removed';
          if (isConnectionFailure(err) && !init.signal.aborted) throw this.serviceLost(err);
          throw err;
        }
        return {
          running: state.Running || state.Restarting === true || state.Status === 'stopping',
          neverStarted: state.Status === 'created' || state.Status === 'configured',
          exitCode: state.ExitCode,
          finishedAt: parseRfc3339(state.FinishedAt),
        };
      },
      { expectExit, until: init.options.until, signal: init.signal },
    );
  }
}
