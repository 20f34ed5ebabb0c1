// One TCP connection per fuzz request: the bytes go out exactly as generated (no HTTP client
// library fixes a lie or refuses a bad header), and the answer is read only as far as a check
// needs it: a whole error body, or just the head of a stream that would never end.
import { connect } from 'node:net';

export interface RawAnswer {
  /** 0: no HTTP answer came (the server closed, or `timeoutMs` passed). */
  status: number;
  /** The status line and header lines as sent. */
  head: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body (de-chunked) of an answer read to its end; empty for a stream cut after its head. */
  body: Buffer;
  /** Bytes after a 101's head (the server's first WebSocket frames), when `afterUpgrade` waits for them. */
  frames: Buffer;
  closedByServer: boolean;
  timedOut: boolean;
}

export interface ExchangeOptions {
  timeoutMs?: number;
  /** HEAD: the answer has no body. */
  headRequest?: boolean;
  /** After a 101: write these, then read the server's frames for `frameWaitMs`. */
  afterUpgrade?: Buffer;
  frameWaitMs?: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

let lastClient = 0;
/**
 * A loopback address of its own for each connection (127.1.0.0/16; Linux answers all of
 * 127/8): the gateway slows down a client address's repeated wrong tokens (2 s each), which a
 * fuzz run sends thousands of.
 */
export function nextClientAddress(): string {
  lastClient = (lastClient + 1) % 65_536;
  return `127.1.${lastClient >> 8}.${lastClient & 255}`;
}
/** A body read past this is cut (no error answer comes near it). */
const MAX_BODY_BYTES = 64 * 1024;

function parseHead(head: string): { status: number; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status, headers };
}

/** The body of a chunked answer, or undefined while its last chunk has not come. */
function dechunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return Buffer.concat(parts);
    if (size === 0) return Buffer.concat(parts);
    if (bytes.length < lineEnd + 2 + size) return undefined;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** Whether `received` holds all of the answer a check reads; then its body. */
export function completeAnswer(received: Buffer, options: ExchangeOptions): { done: boolean; body: Buffer } {
  const split = received.indexOf(HEAD_END);
  if (split === -1) return { done: false, body: Buffer.alloc(0) };
  const { status, headers } = parseHead(received.subarray(0, split).toString('latin1'));
  const rest = received.subarray(split + 4);
  // A success that streams (logs, events) is judged by its head: reading it would never end.
  const streams = headers['content-length'] === undefined && status < 400;
  if (status === 101 || options.headRequest || status === 204 || status === 304 || streams) {
    return { done: true, body: Buffer.alloc(0) };
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    return { done: rest.length >= length || rest.length > MAX_BODY_BYTES, body: rest.subarray(0, length) };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const body = dechunk(rest);
    return { done: body !== undefined || rest.length > MAX_BODY_BYTES, body: body ?? rest };
  }
  return { done: rest.length > MAX_BODY_BYTES, body: rest };
}

export function answerOf(received: Buffer, options: ExchangeOptions): Omit<RawAnswer, 'closedByServer' | 'timedOut'> {
  const split = received.indexOf(HEAD_END);
  const head = (split === -1 ? received : received.subarray(0, split)).toString('latin1');
  const parsed = split === -1 ? { status: 0, headers: {} } : parseHead(head);
  const { body } = completeAnswer(received, options);
  const frames = parsed.status === 101 ? received.subarray(split + 4) : Buffer.alloc(0);
  return { ...parsed, head: split === -1 ? '' : head, body, frames };
}

/** Sends `bytes` (all at once, or as the given pieces) to 127.0.0.1:`port` and reads the answer. */
export function exchange(port: number, bytes: Buffer | Buffer[], options: ExchangeOptions = {}): Promise<RawAnswer> {
  const { timeoutMs = 5000, frameWaitMs = 30 } = options;
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: nextClientAddress() });
    const parts: Buffer[] = [];
    let settled = false;
    const finish = (closedByServer: boolean, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...answerOf(Buffer.concat(parts), options), closedByServer, timedOut });
    };
    const timer = setTimeout(() => finish(false, true), timeoutMs);
    let upgraded = false;
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      if (upgraded) return;
      const received = Buffer.concat(parts);
      if (!completeAnswer(received, options).done) return;
      if (answerOf(received, options).status !== 101 || options.afterUpgrade === undefined) return finish(false, false);
      upgraded = true;
      socket.write(options.afterUpgrade);
      setTimeout(() => finish(false, false), frameWaitMs);
    });
    socket.on('close', () => finish(true, false));
    socket.on('error', () => finish(true, false));
    for (const piece of Array.isArray(bytes) ? bytes : [bytes]) socket.write(piece);
  });
}
