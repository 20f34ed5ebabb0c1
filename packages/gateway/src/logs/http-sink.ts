import type { ServerResponse } from 'node:http';
import type { FramedBatch, FramingName } from './log-framing.js';
import { CLOSE, type LogSink, type StreamEnd } from './log-stream.js';

/** The last line of a text/plain stream that the gateway's shutdown ended. */
export const SHUTDOWN_LINE = 'enginegate: the gateway is shutting down; the logs did not end here\n';

/**
 * Streams framed batches as a chunked HTTP body: raw bytes (text/plain) or NDJSON. One write per
 * batch, so lines go out as they arrive.
 */
export class HttpSink implements LogSink {
  constructor(
    private readonly response: ServerResponse,
    private readonly framing: FramingName,
    private readonly highWaterMark: number,
    private readonly onSent: (bytes: number) => void,
  ) {}

  static contentType(framing: FramingName): string {
    return framing === 'json' ? 'application/x-ndjson; charset=utf-8' : 'text/plain; charset=utf-8';
  }

  send(batch: FramedBatch): void {
    if (this.response.destroyed) return;
    const chunk =
      this.framing === 'json'
        ? `${(batch.messages as string[]).join('\n')}\n`
        : batch.messages.length === 1
          ? (batch.messages[0] as Buffer)
          : Buffer.concat(batch.messages as Buffer[]);
    this.response.write(chunk);
    this.onSent(batch.bytes);
  }

  get congested(): boolean {
    return this.response.writableLength > this.highWaterMark;
  }

  drained(): Promise<void> {
    const response = this.response;
    if (!response.writableNeedDrain || response.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        response.off('drain', done);
        response.off('close', done);
        resolve();
      };
      response.on('drain', done);
      response.on('close', done);
    });
  }

  finish(end: StreamEnd): void {
    const response = this.response;
    if (response.destroyed || response.writableEnded) return;
    switch (end.kind) {
      case 'complete':
        response.end();
        return;
      case 'client-gone':
        response.destroy();
        return;
      case 'stopped':
        if (end.code === CLOSE.goingAway) return this.endWithShutdown(end.reason);
        return this.endWithError(
          end.code === CLOSE.tryAgainLater ? 'TOO_MANY_STREAMS' : 'ENGINE_UNAVAILABLE',
          end.reason,
        );
      case 'engine-lost':
        return this.endWithError('ENGINE_UNAVAILABLE', `engine lost: ${end.reason}`);
      case 'engine-error':
        if (end.inBand && this.framing === 'json') return void response.end();
        return this.endWithError('INTERNAL', end.reason);
    }
  }

  /**
   * A shutdown must not look like the end of the logs: NDJSON ends with an error record of code
   * SHUTDOWN; text/plain with a last line that says so (SHUTDOWN_LINE), and then it is cut off
   * like an error (below), so that a client that does not read the line sees no complete body.
   */
  private endWithShutdown(reason: string): void {
    if (this.framing === 'json') return this.endWithError('SHUTDOWN', reason);
    this.response.write(SHUTDOWN_LINE);
    this.endWithError('SHUTDOWN', reason);
  }

  /**
   * NDJSON says why in a last error record. A text/plain body has no room for that, so it is cut
   * off — the connection ends after what was written, without the last chunk — which curl and
   * fetch report as an error instead of a complete log.
   */
  private endWithError(code: string, message: string): void {
    if (this.framing === 'json') {
      this.response.end(`${JSON.stringify({ type: 'error', code, message })}\n`);
    } else if (this.response.socket) {
      this.response.socket.end();
    } else {
      this.response.destroy();
    }
  }
}
