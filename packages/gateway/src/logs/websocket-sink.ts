import { utf8BoundaryAtOrBefore } from '@enginegate/plugin-api';
import { WebSocket } from 'ws';
import type { FramedBatch } from './log-framing.js';
import { encodeFrames } from './websocket-frames.js';
import { CLOSE, type LogSink, type StreamEnd } from './log-stream.js';

/** A close reason is at most 123 bytes (RFC 6455 §5.5: control payload 125 minus the code). */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= 123) return text;
  return bytes.subarray(0, utf8BoundaryAtOrBefore(bytes, 120)).toString() + '...';
}

interface WsInternals {
  _socket?: { writable: boolean; cork(): void; uncork(): void; write(data: Buffer, cb: () => void): boolean };
  _sender?: { _bufferedBytes: number };
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
    const socket = this.directSocket();
    if (socket !== undefined) {
      // The whole batch as frames in one buffer, one write: its callback fires once everything
      // before it reached the kernel.
      const frames = encodeFrames(batch.messages, batch.lengths);
      this.lastWrite = new Promise((resolve) => socket.write(frames, () => resolve()));
    } else {
      this.sendThroughWs(batch.messages);
    }
    this.onSent(batch.bytes);
  }

  /**
   * ws's socket, when frames may be written to it directly: the connection is open and ws's
   * sender holds nothing queued (it queues only while compressing, which this gateway turns
   * off, or reading a Blob), so what is written keeps its place among ws's own frames (pings,
   * the close). `_socket` and `_sender` are ws's (undocumented, long-stable) internals.
   */
  private directSocket(): WsInternals['_socket'] | undefined {
    const { _socket: socket, _sender: sender } = this.ws as unknown as WsInternals;
    if (this.ws.readyState !== WebSocket.OPEN || socket === undefined || sender?._bufferedBytes !== 0) return undefined;
    return socket.writable ? socket : undefined;
  }

  private sendThroughWs(messages: ReadonlyArray<Buffer | string>): void {
    const last = messages.length - 1;
    // Corking the socket around the batch turns its frames into one writev (corks nest).
    const socket = (this.ws as unknown as WsInternals)._socket;
    socket?.cork();
    try {
      for (let i = 0; i < last; i++) this.ws.send(messages[i]!);
      this.lastWrite = new Promise((resolve) => this.ws.send(messages[last]!, () => resolve()));
    } finally {
      socket?.uncork();
    }
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
