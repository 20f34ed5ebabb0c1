import { ERROR_CODES, cutInput, isEngineGateError, type ErrorCode } from '@enginegate/plugin-api';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

export interface ErrorAnswer {
  statusCode: number;
  code: ErrorCode;
  message: string;
  retryAfterSeconds?: number;
}

/** fastify's own client errors (bad JSON body, body too large, wrong content type), by status. */
const FASTIFY_CLIENT_ERRORS: Partial<Record<number, ErrorCode>> = {
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

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

/** Every error and unknown route answers in the JSON error shape; client mistakes log at debug, bugs at error. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const answer = errorAnswer(err);
    if (answer.statusCode >= 500 && answer.code !== 'ENGINE_UNAVAILABLE' && answer.code !== 'TOO_MANY_STREAMS') {
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
