// One WebSocket connection of the fuzz: a real upgrade over a TCP socket of its own, then the
// generated frames exactly as generated (pieces, cut mid-frame, or in the upgrade's own
// packet), then an end (destroy, FIN, wait, or a clean close). The server's frames are read
// with ws's own client-side parser, which refuses anything malformed a server may not send.
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import type { Writable } from 'node:stream';
import { answerOf, completeAnswer, nextClientAddress, type RawAnswer } from './raw-exchange.js';
import { encodeFrame, type FuzzFrame } from './websocket-frame-arbitraries.js';

type ReceiverClass = new (options: { isServer: boolean; maxPayload: number }) => Writable;
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: ReceiverClass };

/** 'hold': the client keeps the connection open, reading, until the server ends it. */
export type WebSocketEnd = 'destroy' | 'fin' | 'wait' | 'close' | 'hold';

export interface WebSocketCase {
  /** The upgrade request (latin1: strings read better in a counterexample). */
  request: string;
  /** A request pipelined before the upgrade, in the same write (its answer has a Content-Length). */
  before: string | undefined;
  frames: FuzzFrame[];
  /** Send the frames in the upgrade request's own write (they arrive as ws's `head`). */
  withRequest: boolean;
  /** How many writes the frames' bytes are split into. */
  pieces: number;
  /** 0–1: the frames' bytes are cut there (a frame cut mid-way); 1: all sent. */
  cutAt: number;
  end: WebSocketEnd;
  inputs: string[];
  what: string;
}

export interface WebSocketResult {
  /** The status of the answer to `before`. */
  beforeStatus: number | undefined;
  answer: Omit<RawAnswer, 'closedByServer' | 'timedOut'>;
  /** The server's close frame: its code (1005: none) and reason. */
  close: { code: number; reason: string } | undefined;
  /** A frame the server sent that a client must refuse. */
  frameError: string | undefined;
  /** A message or control frame the server sent after its close frame. */
  afterClose: boolean;
  closedByServer: boolean;
}

/** How long an end waits for the server: its close frame ('wait'), its FIN ('fin', 'close'). */
const WAIT_MS = { destroy: 0, wait: 150, fin: 3000, close: 3000, hold: 0 } as const;
const CLIENT_CLOSE = encodeFrame({
  fin: true,
  rsv: 0,
  opcode: 8,
  masked: true,
  payload: Buffer.from([3, 232]),
  what: '',
});

export function frameBytes(c: WebSocketCase): Buffer {
  const bytes = Buffer.concat(c.frames.map(encodeFrame));
  return bytes.subarray(0, Math.floor(bytes.length * c.cutAt));
}

function split(bytes: Buffer, pieces: number): Buffer[] {
  const size = Math.max(1, Math.ceil(bytes.length / pieces));
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  return parts;
}

/** The bytes of the whole answer at the start of `bytes` (head and Content-Length body), once all came. */
function wholeAnswerLength(bytes: Buffer): number | undefined {
  const split = bytes.indexOf('\r\n\r\n');
  if (split === -1) return undefined;
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(bytes.subarray(0, split).toString('latin1'))?.[1] ?? 0);
  return bytes.length >= split + 4 + length ? split + 4 + length : undefined;
}

/** Reads the server's frames after the 101 into `result`. */
function frameReader(result: WebSocketResult, onClose: () => void): Writable {
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  const late = () => {
    if (result.close) result.afterClose = true;
  };
  receiver.on('message', late);
  receiver.on('ping', late);
  receiver.on('pong', late);
  receiver.on('conclude', (code: number, reason: Buffer) => {
    result.close = { code, reason: reason.toString('utf8') };
    onClose();
  });
  receiver.on('error', (err: Error) => {
    result.frameError ??= err.message;
  });
  return receiver;
}

export function webSocketExchange(
  port: number,
  c: WebSocketCase,
  timeoutMs: number,
  /** Called once everything is sent (or the exchange ended before). */
  onSent: () => void = () => undefined,
): Promise<WebSocketResult> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: nextClientAddress() });
    const frames = frameBytes(c);
    const received: Buffer[] = [];
    const result: WebSocketResult = {
      beforeStatus: undefined,
      answer: answerOf(Buffer.alloc(0), {}),
      close: undefined,
      frameError: undefined,
      afterClose: false,
      closedByServer: false,
    };
    let reader: Writable | undefined;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reader?.end();
      onSent();
      resolve(result);
    };
    const timer = setTimeout(finish, timeoutMs);
    let waitTimer: NodeJS.Timeout | undefined;
    const afterSent = () => {
      onSent();
      if (c.end === 'destroy') return finish();
      if (c.end === 'fin') socket.end();
      if (c.end === 'close') socket.write(CLIENT_CLOSE);
      if (c.end !== 'hold') waitTimer = setTimeout(finish, WAIT_MS[c.end]);
    };
    const onServerClose = () => {
      // 'wait' ends as soon as the server's close frame came; the others wait for its FIN.
      if (c.end === 'wait') finish();
    };
    const upgraded = async () => {
      reader = frameReader(result, onServerClose);
      const rest = result.answer.frames;
      if (rest.length > 0) reader.write(rest);
      if (!c.withRequest) {
        for (const piece of split(frames, c.pieces)) {
          if (socket.destroyed) break;
          socket.write(piece);
          await new Promise((next) => setImmediate(next));
        }
      }
      afterSent();
    };
    socket.on('data', (chunk: Buffer) => {
      if (reader) return void reader.write(chunk);
      received.push(chunk);
      let all = Buffer.concat(received);
      if (c.before && result.beforeStatus === undefined) {
        const length = wholeAnswerLength(all);
        if (length === undefined) return;
        result.beforeStatus = answerOf(all.subarray(0, length), {}).status;
        all = all.subarray(length);
        received.splice(0, received.length, all);
      }
      if (!completeAnswer(all, {}).done) return;
      result.answer = answerOf(all, {});
      if (result.answer.status === 101) void upgraded();
      else finish();
    });
    socket.on('close', () => {
      result.closedByServer = !settled;
      if (!reader) result.answer = answerOf(Buffer.concat(received), {});
      clearTimeout(waitTimer);
      finish();
    });
    socket.on('error', () => undefined);
    const request = Buffer.from((c.before ?? '') + c.request, 'latin1');
    socket.write(c.withRequest ? Buffer.concat([request, frames]) : request);
  });
}
