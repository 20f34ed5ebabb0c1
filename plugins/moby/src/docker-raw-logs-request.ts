import net from 'node:net';
import type { Readable } from 'node:stream';
import { InternalError } from '@enginegate/plugin-api';

/** A daemon reached over a plain socket: a unix socket, or TCP without TLS. */
export type PlainDockerEndpoint = { kind: 'unix'; socketPath: string } | { kind: 'tcp'; host: string; port: number };

/** Docker's answer to an HTTP request, shaped as docker-modem rejects with (docker-errors.ts reads it). */
export class DockerHttpError extends Error {
  readonly statusCode: number;
  readonly reason: string | undefined;
  readonly json: { message?: string } | null;

  constructor(statusCode: number, reason: string | undefined, json: { message?: string } | null, body: string) {
    super(`(HTTP code ${statusCode}) ${reason ?? 'unexpected'} - ${json?.message ?? body} `);
    this.name = 'DockerHttpError';
    this.statusCode = statusCode;
    this.reason = reason;
    this.json = json;
  }
}

export interface RawLogsRequest {
  endpoint: PlainDockerEndpoint;
  /** The request target, query included (`/containers/ID/logs?follow=true&…`). */
  path: string;
  /** Aborts the request, and the body once it is handed out. */
  signal: AbortSignal;
  /** How long to wait for the status line and headers; the body never times out. */
  headTimeoutMs: number;
  /** What the promise rejects with when the head did not come in time. */
  timeoutError: Error;
  /** The words of docker-modem's `statusCodes` for an error status (404, 501, …). */
  statusReasons: Readonly<Record<number, string>>;
  /** Sees every socket opened, so that the client can destroy it on close. */
  onSocket(socket: net.Socket): void;
}

/** The status line and headers together may be at most this long. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** An error answer's body is read up to this many bytes (Docker's are one short JSON object). */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/;

/**
 * `GET` of a Docker logs body as HTTP/1.0 over a socket of its own. Docker (Go's net/http)
 * answers an HTTP/1.0 request without chunked encoding and closes the connection at the end
 * (a follow too: each write is flushed), so the body arrives in big socket reads rather than
 * one HTTP chunk — one callback in node's http — per log frame. Resolves on a 200 with the
 * socket itself as the body (the bytes read past the head unshifted into it): the caller
 * iterates and destroys it. Any other status rejects with a DockerHttpError.
 */
export async function requestRawLogs(request: RawLogsRequest): Promise<Readable> {
  const { signal } = request;
  if (signal.aborted) throw signal.reason as Error;
  const socket = connect(request);
  const head = await readHead(socket, request);
  if (head.status === 200) {
    if (head.headers.get('transfer-encoding') === undefined) return socket;
    socket.destroy();
    throw malformed('a chunked body to an HTTP/1.0 request');
  }
  try {
    throw httpError(head.status, request.statusReasons, await readErrorBody(socket, head));
  } finally {
    socket.destroy();
  }
}

/** A socket to the daemon with the request written; the signal destroys it, whenever it comes. */
function connect(request: RawLogsRequest): net.Socket {
  const { endpoint, signal } = request;
  const socket =
    endpoint.kind === 'unix' ? net.connect(endpoint.socketPath) : net.connect(endpoint.port, endpoint.host);
  request.onSocket(socket);
  const host = endpoint.kind === 'unix' ? 'docker' : `${endpoint.host}:${endpoint.port}`;
  // No half-close after the request: Go's server takes a client's EOF as the request being cancelled.
  socket.write(`GET ${request.path} HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: enginegate\r\n\r\n`);
  const abort = () => socket.destroy();
  signal.addEventListener('abort', abort, { once: true });
  // Errors once the body is handed out reach its reader through iteration; this keeps one
  // that comes before anyone reads from being an uncaught 'error'.
  socket.on('error', () => undefined);
  socket.once('close', () => signal.removeEventListener('abort', abort));
  return socket;
}

/**
 * The status line and headers, within the head timeout. What was read past them is put back
 * into the socket before this returns: unshifted synchronously after the read that got it,
 * before the socket can have emitted 'end'.
 */
function readHead(socket: net.Socket, request: RawLogsRequest): Promise<ResponseHead> {
  const { signal } = request;
  return new Promise<ResponseHead>((resolve, reject) => {
    let head: Buffer = Buffer.alloc(0);
    const settle = (err: unknown, parsed?: ResponseHead) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('error', settle);
      socket.off('close', onClose);
      socket.off('readable', onReadable);
      if (parsed !== undefined) return resolve(parsed);
      socket.destroy();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(err);
    };
    const onAbort = () => settle(signal.reason);
    const onClose = () =>
      settle(
        Object.assign(new Error('the Docker daemon closed the connection before it answered a logs request'), {
          code: 'ECONNRESET',
        }),
      );
    const timer = setTimeout(() => settle(request.timeoutError), request.headTimeoutMs);
    const onReadable = () => {
      for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null;) {
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        const end = head.indexOf(HEAD_END);
        if (end < 0 ? head.length > MAX_HEAD_BYTES : end > MAX_HEAD_BYTES) {
          return settle(malformed(`a head of over ${MAX_HEAD_BYTES} bytes`));
        }
        if (end < 0) continue;
        let parsed: ResponseHead;
        try {
          parsed = parseHead(head.toString('latin1', 0, end));
        } catch (err) {
          return settle(err);
        }
        const rest = head.subarray(end + HEAD_END.length);
        if (rest.length > 0) socket.unshift(rest);
        return settle(undefined, parsed);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', settle);
    socket.on('close', onClose);
    socket.on('readable', onReadable);
  });
}

interface ResponseHead {
  status: number;
  /** Lower-cased names; a repeated header keeps its last value. */
  headers: Map<string, string>;
}

function parseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const status = STATUS_LINE.exec(lines[0]!);
  if (status === null) throw malformed(`the status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const header = HEADER_LINE.exec(line);
    if (header === null) throw malformed(`the header line ${JSON.stringify(line.slice(0, 80))}`);
    headers.set(header[1]!.toLowerCase(), header[2]!);
  }
  return { status: Number(status[1]), headers };
}

function malformed(what: string): InternalError {
  return new InternalError(`the Docker daemon answered a logs request with ${what}, not an HTTP response head`);
}

/** An error answer's body: up to its Content-Length or the connection's end, at most MAX_ERROR_BODY_BYTES. */
function readErrorBody(socket: net.Socket, head: ResponseHead): Promise<Buffer> {
  const declared = Number(head.headers.get('content-length') ?? NaN);
  const limit =
    Number.isInteger(declared) && declared >= 0 ? Math.min(declared, MAX_ERROR_BODY_BYTES) : MAX_ERROR_BODY_BYTES;
  return new Promise<Buffer>((resolve, reject) => {
    let body: Buffer = Buffer.alloc(0);
    const finish = (err?: Error) => {
      socket.off('data', onData);
      socket.off('end', finish);
      socket.off('close', onClose);
      socket.off('error', finish);
      if (err === undefined) resolve(body.subarray(0, limit));
      else reject(err);
    };
    const onClose = () => finish();
    const onData = (chunk: Buffer) => {
      body = Buffer.concat([body, chunk]);
      if (body.length >= limit) finish();
    };
    // The head's read may have been the last: then 'end' came already.
    if (limit === 0 || socket.readableEnded || socket.destroyed) return finish();
    socket.on('data', onData);
    socket.once('end', finish);
    socket.once('close', onClose);
    socket.once('error', finish);
  });
}

function httpError(status: number, reasons: Readonly<Record<number, string>>, body: Buffer): DockerHttpError {
  const text = body.toString('utf8');
  let json: { message?: string } | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object') json = parsed;
  } catch {
    // Not JSON: the text is the message.
  }
  return new DockerHttpError(status, reasons[status], json, text.trim());
}
