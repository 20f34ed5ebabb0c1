import { EngineGateError, InvalidArgumentError, cutInput, quoteInput, validateNamespace } from '@enginegate/plugin-api';
import type { FastifyInstance } from 'fastify';
import type { EngineManager } from '../engine-manager.js';
import type { PassthroughRegistry } from '../passthrough-registry.js';

function stringQuery(query: Record<string, string | string[] | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    // Any name a client sends: cut, like every input a message repeats.
    if (Array.isArray(value)) throw new InvalidArgumentError(key, `${cutInput(key)} is given more than once`);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

/**
 * Discovery (`GET /passthrough`), the active engine's containers, and the endpoints an engine
 * adds through `passthroughs()`. The logs endpoint is LogsRoute.
 */
export function registerPassthroughRoutes(
  app: FastifyInstance,
  engines: EngineManager,
  registry: PassthroughRegistry,
): void {
  app.get('/passthrough', async (_request, reply) => {
    const { name, state } = engines.status;
    // Serialised here, in a fixed key order: the body is byte-identical across restarts.
    const body = JSON.stringify({ engine: { name, state }, endpoints: registry.list() });
    return reply.type('application/json; charset=utf-8').send(body);
  });

  app.get('/passthrough/engine/containers', async (request) => {
    const query = stringQuery(request.query as Record<string, string | string[] | undefined>);
    const { engine } = engines.snapshot();
    return query.namespace === undefined
      ? engine.containers()
      : engine.containers({ namespace: validateNamespace(query.namespace) });
  });

  app.get<{ Params: { controller: string; endpoint: string } }>(
    '/passthrough/:controller/:endpoint',
    async (request) => {
      const { controller, endpoint } = request.params;
      const found = registry.find(controller, endpoint);
      if (found === undefined) {
        throw new EngineGateError(
          'NOT_FOUND',
          `no passthrough endpoint ${quoteInput(`${controller}/${endpoint}`)} (GET /passthrough lists them)`,
        );
      }
      engines.snapshot();
      const query = stringQuery(request.query as Record<string, string | string[] | undefined>);
      return found.handler({ params: { ...request.params }, query });
    },
  );
}
