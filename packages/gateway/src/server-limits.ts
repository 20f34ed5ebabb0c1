import type { ServerOptions } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { limitConnections } from './connection-limits.js';
import type { ResolvedGatewayOptions } from './gateway-options.js';
import { HostCheck } from './host-check.js';

/** Request line and headers together (node's maxHeaderSize); over it is a 431. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** How often node looks for requests over their time limit. */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * The HTTP server's own limits, as fastify options: headers within `headersTimeoutMs`, the
 * whole request (headers and body) within `headersTimeoutMs + bodyTimeoutMs`, else a 408 in the
 * JSON shape (the clientErrorHandler answers it); headers over 16 KiB are a 431.
 */
export function serverLimitOptions(resolved: ResolvedGatewayOptions): { requestTimeout: number; http: ServerOptions } {
  const requestTimeout = resolved.headersTimeoutMs + resolved.bodyTimeoutMs;
  return {
    requestTimeout,
    http: {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: resolved.headersTimeoutMs,
      requestTimeout,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
  };
}

/**
 * The checks that come before anything else, in this order: the `Host` allow-list (421, against
 * DNS rebinding), then the connection caps (503). Install before the token check.
 */
export function installServerLimits(app: FastifyInstance, resolved: ResolvedGatewayOptions): void {
  const hostCheck = new HostCheck(resolved.host, resolved.allowedHosts, resolved.socket !== undefined);
  app.addHook('onRequest', async (request) => hostCheck.check(request));
  limitConnections(app, app.server, resolved);
}
