import { EngineGateError, quoteInput } from '@enginegate/plugin-api';
import type { FastifyInstance } from 'fastify';

const ALLOWED_METHODS = 'GET, PUT';
const ALLOWED_HEADERS = 'authorization, content-type, accept, last-event-id';
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for the HTTP routes, for the allowed origins only (the same list WebSocket upgrades are
 * checked against): an answer to an allowed `Origin` carries `Access-Control-Allow-Origin`, and
 * a preflight (`OPTIONS` with `Access-Control-Request-Method`) of an allowed origin is a 204
 * before any token check — a browser sends no token with it. A preflight of another origin is a
 * 403. Install before the token check.
 */
export function installCors(app: FastifyInstance, allowedOrigins: () => ReadonlySet<string>): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    const allowed = allowedOrigins().has(origin);
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (!allowed) {
      if (preflight) throw new EngineGateError('FORBIDDEN', `origin ${quoteInput(origin)} is not allowed`);
      return;
    }
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'Origin');
    reply.header('access-control-expose-headers', 'retry-after, content-type');
    if (!preflight) return;
    reply.header('access-control-allow-methods', ALLOWED_METHODS);
    reply.header('access-control-allow-headers', ALLOWED_HEADERS);
    reply.header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
    return reply.code(204).send();
  });
}
