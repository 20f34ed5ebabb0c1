import { EngineGateError, quoteInput } from '@enginegate/plugin-api';
import { loadViewerAssets, VIEWER_SECURITY_HEADERS, type ViewerAsset, type ViewerAssets } from '@enginegate/viewer';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const NOT_BUILT = 'The enginegate viewer is not built: run `npm run build` (or `npm start`), then reload.\n';

/**
 * `GET /` (the log viewer page) and `GET /viewer/{file}` (its script, stylesheet and icon). They
 * hold no data, so they need no token (`config.public`): the page gets the token from its own
 * address and sends it with every request it makes. Every answer carries the page's strict CSP.
 */
export function registerViewerRoutes(app: FastifyInstance): void {
  let assets: ViewerAssets | null = null;
  // Read on first use, and again while missing: a build after the gateway started is picked up.
  const current = () => (assets ??= loadViewerAssets());

  app.get('/', { config: { public: true } }, async (request, reply) => {
    const built = current();
    if (built === null) {
      return reply.code(503).headers(VIEWER_SECURITY_HEADERS).type('text/plain; charset=utf-8').send(NOT_BUILT);
    }
    return sendAsset(request, reply, built.page);
  });

  app.get<{ Params: { file: string } }>('/viewer/:file', { config: { public: true } }, async (request, reply) => {
    const asset = current()?.files.get(request.params.file);
    if (asset === undefined) {
      throw new EngineGateError('NOT_FOUND', `no viewer file ${quoteInput(request.params.file)}`);
    }
    return sendAsset(request, reply, asset);
  });
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: ViewerAsset): FastifyReply {
  // no-cache: revalidated on every load (a 304 by ETag), so a rebuilt viewer is never stale.
  reply.headers(VIEWER_SECURITY_HEADERS).header('cache-control', 'no-cache').header('etag', asset.etag);
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.contentType).send(asset.body);
}
