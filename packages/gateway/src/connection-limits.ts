import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { EngineGateError } from '@enginegate/plugin-api';
import type { FastifyInstance } from 'fastify';

export interface ConnectionLimitOptions {
  /** Open connections in total beyond which a new one is refused. */
  maxConnections: number;
  /** Open connections from one client address beyond which a new one is refused. */
  maxConnectionsPerClient: number;
}

/** The client address a limit counts by (a unix socket's peers share one). */
export function clientAddress(socket: { remoteAddress?: string | undefined }): string {
  return socket.remoteAddress ?? 'unix';
}

/**
 * Counts open connections, in total and per client address. A connection over either cap gets a
 * JSON 503 TOO_MANY_CONNECTIONS (with `Retry-After`) to its first request and is closed; a hard
 * cap at twice the total drops further connections at once, before any file descriptor work.
 */
export function limitConnections(app: FastifyInstance, server: Server, limits: ConnectionLimitOptions): void {
  let total = 0;
  const perClient = new Map<string, number>();
  const refused = new WeakMap<Socket, string>();
  server.maxConnections = limits.maxConnections * 2;
  server.prependListener('connection', (socket: Socket) => {
    const client = clientAddress(socket);
    const fromClient = (perClient.get(client) ?? 0) + 1;
    total += 1;
    perClient.set(client, fromClient);
    socket.once('close', () => {
      total -= 1;
      const left = (perClient.get(client) ?? 1) - 1;
      if (left === 0) perClient.delete(client);
      else perClient.set(client, left);
    });
    if (total > limits.maxConnections)
      refused.set(socket, `too many open connections (limit ${limits.maxConnections})`);
    else if (fromClient > limits.maxConnectionsPerClient)
      refused.set(socket, `too many open connections from ${client} (limit ${limits.maxConnectionsPerClient})`);
  });
  app.addHook('onRequest', async (request, reply) => {
    const reason = refused.get(request.raw.socket);
    if (reason === undefined) return;
    reply.header('connection', 'close');
    throw new EngineGateError('TOO_MANY_CONNECTIONS', reason, { retryAfterSeconds: 5 });
  });
}
