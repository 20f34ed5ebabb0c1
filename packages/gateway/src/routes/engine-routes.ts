import { InvalidArgumentError, cutInput, quoteInput } from '@enginegate/plugin-api';
import type { FastifyInstance } from 'fastify';
import type { EngineManager } from '../engine-manager.js';

/** `GET /engine` and `PUT /engine {"name": "x" | null}`. */
export function registerEngineRoutes(app: FastifyInstance, engines: EngineManager): void {
  app.get('/engine', async () => ({ ...engines.status, available: engines.available() }));

  app.put('/engine', async (request) => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body) || !('name' in body)) {
      throw new InvalidArgumentError('name', 'the body must be a JSON object {"name": "<engine>"} or {"name": null}');
    }
    const name = body.name;
    if (name !== null && typeof name !== 'string') {
      throw new InvalidArgumentError('name', `name must be an engine name, "auto" or null, not ${quoteInput(name)}`);
    }
    request.log.info({ engine: name === null ? null : cutInput(name) }, 'engine switch requested');
    return engines.use(name);
  });
}
