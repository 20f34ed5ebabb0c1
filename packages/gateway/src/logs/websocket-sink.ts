import { utf8BoundaryAtOrBefore } from '@enginegate/plugin-api';
import { WebSocket } from 'ws';
import type { FramedBatch } from './log-framing.js';
import { CLOSE, type LogSink, type StreamEnd } from './log-stream.js';

/** A close reason is at most 123 bytes (RFC 6455 §5.5: control payload 125 minus the code). */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= 123) return text;
  return bytes.subarray(0, utf8BoundaryAtOrBefore(bytes, 120)).toString() + '...';
}

/** Sends framed batches over a WebSocket; strings as text messages, Buffers as binary. */
export class WebSocketSink implements LogSink {
  /** Settles when the last message sent so far has been written to the socket. */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly ws: WebSocket,
    private readonly highWaterMark: number,
    private readonly onSent: (bytes: number) => void,
  ) {}

  send(batch: FramedBatch): void {
    const { messages } = batch;
    const last = messages.length - 1;
    // ws writes each frame on its own; corking the socket around the batch turns a thousand
    // one-line frames into one writev (ws corks per frame too; corks nest). `_socket` is ws's
    // (undocumented, long-stable) reference to the net.Socket.
    const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    socket?.cork();
    try {
      for (let i = 0; i < last; i++) this.ws.send(messages[i]!);
      // One write callback per batch: it fires once everything before it reached the kernel.
      this.lastWrite = new Promise((resolve) => this.ws.send(messages[last]!, () => resolve()));
    } finally {
      socket?.uncork();
    }
    this.onSent(batch.bytes);
  }

  get congested(): boolean {
    return this.ws.bufferedAmount > this.highWaterMark;
  }

  drained(): Promise<void> {
    return this.lastWrite;
  }

  finish(end: StreamEnd): void {
    if (this.ws.readyState !== WebSocket.OPEN) {
      if (end.kind === 'client-gone') this.ws.terminate();
      return;
    }
    switch (end.kind) {
      case 'complete':
        this.ws.close(CLOSE.normal, 'end of logs');
        break;
      case 'engine-error':
        this.ws.close(CLOSE.internalError, closeReason(end.reason));
        break;
      case 'engine-lost':
        this.ws.close(CLOSE.serviceRestart, closeReason(`engine lost: ${end.reason}`));
        break;
      case 'stopped':
        this.ws.close(end.code, closeReason(end.reason));
        break;
      case 'client-gone':
        this.ws.terminate();
        break;
    }
  }
}
