import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_CODES, cutInput, isEngineGateError, type ErrorCode } from '@enginegate/plugin-api';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ErrorAnswer {
  statusCode: number;
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
}

/** fastify's own client errors (bad JSON body, body too large, wrong content type), by status. */
const FASTIFY_CLIENT_ERRORS: Partial<Record<number, ErrorCode>> = {
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

/** What fastify's router and node's HTTP parser refuse, by their error codes, in our words. */
const FRAMEWORK_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_BAD_URL: { code: 'BAD_REQUEST', message: 'the path is not a valid URL (a bad percent-encoding)' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'URI_TOO_LONG', message: 'a path segment is over 1024 characters' },
  FST_ERR_ASYNC_CONSTRAINT: { code: 'BAD_REQUEST', message: 'the request matches no route constraint' },
  HPE_HEADER_OVERFLOW: { code: 'HEADERS_TOO_LARGE', message: 'the request line and headers are over 16 KiB' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', message: 'the request did not arrive within the time limit' },
};
const MALFORMED_HTTP = { code: 'BAD_REQUEST', message: 'the request is not valid HTTP' } as const;

/**
 * Maps any thrown value to the answer a client gets, by its stable code (so that a plugin with
 * its own copy of plugin-api gets the same statuses). Unknown errors are 500 INTERNAL, never a crash.
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (isEngineGateError(err)) {
    const answer: ErrorAnswer = { statusCode: ERROR_CODES[err.code], code: err.code, message: err.message };
    if (typeof err.retryAfterSeconds === 'number') answer.retryAfterSeconds = err.retryAfterSeconds;
    return answer;
  }
  const fastifyError = err as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = FASTIFY_CLIENT_ERRORS[status] ?? 'INVALID_ARGUMENT';
    return { statusCode: ERROR_CODES[code], code, message: cutInput(String(fastifyError.message)) };
  }
  return { statusCode: 500, code: 'INTERNAL', message: 'internal error; the gateway log has the details' };
}

export function sendError(reply: FastifyReply, answer: ErrorAnswer): FastifyReply {
  if (answer.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(answer.retryAfterSeconds))));
  return reply
    .code(answer.statusCode)
    .type('application/json; charset=utf-8')
    .send({ error: { code: answer.code, message: answer.message } });
}

/** 5xx answers that are no bug, logged at debug. */
const EXPECTED_5XX = new Set(['ENGINE_UNAVAILABLE', 'TOO_MANY_STREAMS', 'SHUTDOWN']);

/** Every error and unknown route answers in the JSON error shape; client mistakes log at debug, bugs at error. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const answer = errorAnswer(err);
    if (answer.statusCode >= 500 && !EXPECTED_5XX.has(answer.code)) {
      request.log.error({ err, url: cutInput(request.url) }, 'request failed');
    } else {
      request.log.debug({ code: answer.code, message: answer.message, url: cutInput(request.url) }, 'request refused');
    }
    if (reply.sent || reply.raw.headersSent) return;
    sendError(reply, answer);
  });
  app.setNotFoundHandler((request, reply) => {
    request.log.debug({ method: cutInput(request.method), url: cutInput(request.url) }, 'no such route');
    sendError(reply, {
      statusCode: ERROR_CODES.NOT_FOUND,
      code: 'NOT_FOUND',
      message: `no route ${cutInput(request.method)} ${cutInput(request.url.split('?')[0])}`,
    });
  });
}

/** The JSON error body, for answers written straight to a socket (no fastify reply exists). */
export function errorBody(code: ErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** A whole HTTP/1.1 answer with the JSON error body, ending the connection. */
export function rawErrorAnswer(code: ErrorCode, message: string, headers: Record<string, string> = {}): string {
  const status = ERROR_CODES[code];
  const body = errorBody(code, message);
  const lines = Object.entries({
    connection: 'close',
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  }).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** fastify's `frameworkErrors`: a bad URL or an over-long path segment, in the JSON shape (the URL is not echoed). */
export function answerFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = FRAMEWORK_ERRORS[err.code] ?? MALFORMED_HTTP;
  request.log.debug({ code: known.code, url: cutInput(request.raw.url) }, 'request refused by the router');
  if (request.raw.headers.upgrade !== undefined) reply.header('connection', 'close');
  sendError(reply, { statusCode: ERROR_CODES[known.code], code: known.code, message: known.message });
}

/**
 * The HTTP server's `clientError` (fastify's `clientErrorHandler`): malformed HTTP, headers
 * over the limit, a request that took too long. Answered in the JSON shape, then the
 * connection is closed; a connection reset needs no answer.
 */
export function answerClientError(this: { log: FastifyBaseLogger }, err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const known = FRAMEWORK_ERRORS[err.code ?? ''] ?? MALFORMED_HTTP;
  this.log.debug({ code: known.code, reason: err.code }, 'connection refused by the HTTP parser');
  if (!socket.writable) return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  socket.end(rawErrorAnswer(known.code, known.message));
}

/**
 * The HTTP server's `connect` (a CONNECT request): the gateway is no proxy. Without a listener
 * node closes the connection with no answer; this answers it in the JSON shape.
 */
export function answerConnect(this: { log: FastifyBaseLogger }, request: { url?: string }, socket: Duplex): void {
  this.log.debug({ url: cutInput(request.url ?? '') }, 'CONNECT refused');
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(rawErrorAnswer('BAD_REQUEST', 'CONNECT is not served: the gateway is no proxy'));
}
