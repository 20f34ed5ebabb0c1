import type { Duplex } from 'node:stream';
import { EngineGateError } from '@enginegate/plugin-api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { rawErrorAnswer } from './http-errors.js';

/** RFC 6455: a base64 16-byte nonce. */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;
/** RFC 7230 token characters: what a subprotocol name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function problemWithUpgrade(request: FastifyRequest): string | undefined {
  const headers = request.headers;
  if (String(headers.upgrade).toLowerCase() !== 'websocket') return 'the Upgrade header is not websocket';
  if (request.method !== 'GET') return `a WebSocket upgrade must be a GET, not ${request.method.slice(0, 16)}`;
  const key = headers['sec-websocket-key'];
  if (typeof key !== 'string' || !WEBSOCKET_KEY.test(key)) return 'Sec-WebSocket-Key is missing or malformed';
  const version = headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return 'Sec-WebSocket-Version must be 13';
  const protocols = headers['sec-websocket-protocol'];
  if (protocols === undefined) return undefined;
  const names = [protocols].flat().join(',').split(',');
  const trimmed = names.map((name) => name.trim());
  if (!trimmed.every((name) => TOKEN.test(name)) || new Set(trimmed).size !== trimmed.length) {
    return 'Sec-WebSocket-Protocol is not a list of distinct subprotocol names';
  }
  return undefined;
}

/**
 * Checks a WebSocket upgrade before anything else (auth included), so that what ws would refuse
 * in plain text is a JSON 400 instead, and so that an upgrade of a route that is not a WebSocket
 * route (`/healthz`, `PUT /engine`) is refused rather than answered 101 and closed. Whatever ws
 * still refuses by itself (the `wsClientError` event) is answered in the JSON shape too.
 */
export function installWebSocketHandshakeCheck(app: FastifyInstance): void {
  /** Routes with a WebSocket handler, as fastify registered them (`GET /a/:b`). */
  const routes = new Set<string>();
  app.addHook('onRoute', (route) => {
    if (route.wsHandler === undefined && route.websocket !== true) return;
    for (const method of [route.method].flat()) routes.add(`${method} ${route.url}`);
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.ws) return;
    reply.header('connection', 'close');
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    if (request.routeOptions.url !== undefined && !routes.has(route)) {
      throw new EngineGateError(
        'BAD_REQUEST',
        `${request.method} ${request.routeOptions.url} is not a WebSocket route`,
      );
    }
    const problem = problemWithUpgrade(request);
    if (problem !== undefined) throw new EngineGateError('BAD_REQUEST', `bad WebSocket upgrade: ${problem}`);
  });
  app.addHook('onReady', async () => {
    app.websocketServer.on('wsClientError', (err: Error, socket: Duplex) => {
      app.log.debug({ reason: err.message }, 'WebSocket upgrade refused by ws');
      socket.once('finish', () => socket.destroy());
      socket.end(rawErrorAnswer('BAD_REQUEST', `bad WebSocket upgrade: ${err.message}`));
    });
  });
}
