import { errorText, hasErrorCode } from '@enginegate/plugin-api';
import type { StreamRecord } from '../merged/merged-record.js';
import type { FramedBatch, FramingName } from './log-framing.js';

/** Close codes a stream ends with (RFC 6455 §7.4). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  internalError: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;

/** Why a stream ended; each sink spells it for its transport (a close code, an NDJSON record…). */
export type StreamEnd =
  /** The source ended: `follow=false` done, or the container exited (1000). */
  | { kind: 'complete' }
  /** An `error` record (`inBand`: already framed and sent) or an exception mid-stream (1011). */
  | { kind: 'engine-error'; reason: string; inBand: boolean }
  /** The source threw EngineUnavailableError: the daemon died under it (1012). */
  | { kind: 'engine-lost'; reason: string }
  /** The gateway ended it: shutdown 1001, engine switched/lost 1012, too many streams 1013. */
  | { kind: 'stopped'; code: number; reason: string }
  /** The client closed or vanished: nothing left to tell it. */
  | { kind: 'client-gone' };

/** Where a stream's messages go: a WebSocket or an HTTP response. */
export interface LogSink {
  send(batch: FramedBatch): void;
  /** More than the high-water mark is buffered: stop pulling the source until `drained()`. */
  readonly congested: boolean;
  /** Resolves once the buffered bytes were written, or the client is gone. */
  drained(): Promise<void>;
  /** Ends the client side as `end` says. Called exactly once. */
  finish(end: StreamEnd): void;
}

/** Turns a batch of a stream's records into messages (log records, or the events route's). */
export interface BatchFramer<R> {
  frame(records: readonly R[]): FramedBatch;
}

const ABORTED = Symbol('aborted');

/** The next batch, or ABORTED as soon as the signal fires (a source that ignores it cannot hold the stream). */
function nextOrAborted<R>(
  iterator: AsyncIterator<R[]>,
  signal: AbortSignal,
): Promise<IteratorResult<R[]> | typeof ABORTED> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return resolve(ABORTED);
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    iterator.next().then(
      (result) => {
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // Passed on as the source threw it: the caller maps it to a close code.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(err);
      },
    );
  });
}

function untilDrainedOrAborted(sink: LogSink, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    sink.drained().then(done, done);
  });
}

export interface LogStreamInit {
  /** The engine generation the source was opened on; a later generation closes it 1012. */
  generation: number;
  transport: 'websocket' | 'http';
  framing: FramingName;
  container: string;
  engine: string;
}

/**
 * One open log stream, from the moment its source is opened (before a WebSocket upgrade) to its
 * end. Aborting `abort` releases the engine's source; `stop()` is how the gateway ends it with a
 * code, `clientGone()` how a transport reports the client left. The events route runs its
 * records through the same machinery (`R`).
 */
export class LogStream<R = StreamRecord> {
  readonly abort = new AbortController();
  private stopRequest: { code: number; reason: string } | undefined;
  private source: AsyncIterable<R[]> | undefined;

  constructor(readonly init: LogStreamInit) {}

  get generation(): number {
    return this.init.generation;
  }

  attachSource(source: AsyncIterable<R[]>): void {
    this.source = source;
  }

  /** Ends the stream with `code` (1001, 1012, 1013); the first request wins. */
  stop(code: number, reason: string): void {
    this.stopRequest ??= { code, reason };
    this.abort.abort();
  }

  clientGone(): void {
    this.abort.abort();
  }

  /**
   * Pulls batches and sends them as they come; pauses while the sink is congested. Resolves with
   * why it ended, after the sink was finished and the source released.
   */
  async run(framer: BatchFramer<R>, sink: LogSink): Promise<StreamEnd> {
    const end = await this.pump(framer, sink);
    sink.finish(end);
    return end;
  }

  private async pump(framer: BatchFramer<R>, sink: LogSink): Promise<StreamEnd> {
    const signal = this.abort.signal;
    if (this.source === undefined || signal.aborted) return this.abortedEnd();
    const iterator = this.source[Symbol.asyncIterator]();
    let sourceEnded = false;
    try {
      for (;;) {
        const result = await nextOrAborted(iterator, signal);
        if (result === ABORTED) return this.abortedEnd();
        if (result.done) {
          sourceEnded = true;
          return { kind: 'complete' };
        }
        const framed = framer.frame(result.value);
        if (framed.messages.length > 0) sink.send(framed);
        if (framed.error)
          return { kind: 'engine-error', reason: `${framed.error.code}: ${framed.error.message}`, inBand: true };
        if (sink.congested) {
          await untilDrainedOrAborted(sink, signal);
          if (signal.aborted) return this.abortedEnd();
        }
      }
    } catch (err) {
      sourceEnded = true;
      if (signal.aborted) return this.abortedEnd();
      if (hasErrorCode(err, 'ENGINE_UNAVAILABLE')) return { kind: 'engine-lost', reason: err.message };
      return { kind: 'engine-error', reason: errorText(err), inBand: false };
    } finally {
      // Release the engine's stream whatever ended this one (a no-op once it ended by itself).
      this.abort.abort();
      if (!sourceEnded) {
        try {
          void Promise.resolve(iterator.return?.()).catch(() => undefined);
        } catch {
          // A source whose return() throws has still been aborted.
        }
      }
    }
  }

  private abortedEnd(): StreamEnd {
    return this.stopRequest ? { kind: 'stopped', ...this.stopRequest } : { kind: 'client-gone' };
  }
}
