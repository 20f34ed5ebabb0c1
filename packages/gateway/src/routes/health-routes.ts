import type { FastifyInstance } from 'fastify';
import type { EngineManager } from '../engine-manager.js';
import type { GatewayMetrics } from '../metrics.js';

/** `GET /healthz` (no auth: the process answers), `/readyz` (an engine runs) and `/metrics`. */
export function registerHealthRoutes(app: FastifyInstance, engines: EngineManager, metrics: GatewayMetrics): void {
  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', async () => {
    // Throws EngineUnavailableError (503 with Retry-After) unless an engine is running.
    const { name } = engines.snapshot();
    return { status: 'ready', engine: { name, state: engines.state } };
  });

  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}
