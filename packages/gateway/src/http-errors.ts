import { EngineUnavailableError, isEngineGateError } from '@enginegate/plugin-api';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';

/**
 * Errors only the gateway raises (access control, routing, stream limits). Engine errors are
 * plugin-api's classes; both answer in the same `{ "error": { code, message } }` shape.
 */
export class GatewayError extends Error {
  constructor(
    readonly code:
      'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'TOO_MANY_STREAMS' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE',
    readonly statusCode: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export interface ErrorAnswer {
  statusCode: number;
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

/** Maps any thrown value to the answer a client gets. Unknown errors are 500 INTERNAL, never a crash. */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (isEngineGateError(err)) {
    const answer: ErrorAnswer = { statusCode: err.statusCode, code: err.code, message: err.message };
    if (err instanceof EngineUnavailableError) answer.retryAfterSeconds = err.retryAfterSeconds;
    return answer;
  }
  if (err instanceof GatewayError) {
    const answer: ErrorAnswer = { statusCode: err.statusCode, code: err.code, message: err.message };
    if (err.retryAfterSeconds !== undefined) answer.retryAfterSeconds = err.retryAfterSeconds;
    return answer;
  }
  // fastify's own client errors (bad JSON body, body too large, wrong content type) keep their status.
  const fastifyError = err as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_ARGUMENT';
    return { statusCode: status === 413 || status === 415 ? status : 400, code, message: String(fastifyError.message) };
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
      request.log.error({ err, url: request.url }, 'request failed');
    } else {
      request.log.debug({ code: answer.code, message: answer.message, url: request.url }, 'request refused');
    }
    if (reply.sent || reply.raw.headersSent) return;
    sendError(reply, answer);
  });
  app.setNotFoundHandler((request, reply) => {
    request.log.debug({ method: request.method, url: request.url }, 'no such route');
    sendError(reply, {
      statusCode: 404,
      code: 'NOT_FOUND',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    });
  });
}
