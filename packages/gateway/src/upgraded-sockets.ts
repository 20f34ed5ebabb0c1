// What the HTTP server's own handling of connections misses: upgraded sockets at close, an
// upgrade pipelined behind another request, and requests that come while the gateway shuts down.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { EngineGateError } from '@enginegate/plugin-api';
import type { FastifyInstance } from 'fastify';

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * Ends every connection of the server when it closes, upgraded or not: node's
 * closeAllConnections() (fastify's forceCloseConnections) leaves upgraded sockets alone, and ws
 * ends only those that became its clients, so server.close() would wait on any other (an
 * upgrade whose answer is still coming, one @fastify/websocket gave up on) for as long as its
 * client keeps it open. Runs as a preClose hook: after the close handshakes' grace, after ws
 * terminated its clients, before server.close().
 */
export function destroySocketsOnClose(app: FastifyInstance): void {
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  app.addHook('preClose', (done) => {
    for (const socket of sockets) socket.destroy();
    done();
  });
}

/** The answer that still holds `socket`: node's own field, set while a response is being written. */
function answerInProgress(socket: Duplex): ServerResponse | null {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
}

/**
 * An upgrade pipelined behind another request on one connection reaches 'upgrade' while that
 * request's answer still holds the socket; @fastify/websocket cannot take it then
 * (ERR_HTTP_SOCKET_ASSIGNED, logged) and leaves the connection open and unanswered. Such an
 * upgrade is handed on once the answer before it is sent, and served like any other. Call
 * after @fastify/websocket is registered: its upgrade listener is wrapped.
 */
export function servePipelinedUpgrades(app: FastifyInstance): void {
  const server: Server = app.server;
  const listeners = server.listeners('upgrade') as UpgradeListener[];
  server.removeAllListeners('upgrade');
  const dispatch: UpgradeListener = (request, socket, head) => {
    for (const listener of listeners) listener.call(server, request, socket, head);
  };
  const onUpgrade: UpgradeListener = (request, socket, head) => {
    const before = answerInProgress(socket);
    if (before === null) return dispatch(request, socket, head);
    // node took its error listener off before 'upgrade'; until ws has the socket, one of ours.
    const onError = () => socket.destroy();
    socket.on('error', onError);
    before.once('finish', () =>
      // After node's own 'finish' listener has detached the answer from the socket.
      setImmediate(() => {
        socket.removeListener('error', onError);
        if (socket.destroyed || answerInProgress(socket) !== null) return void socket.destroy();
        dispatch(request, socket, head);
      }),
    );
    before.once('close', () => {
      if (!before.writableFinished) socket.destroy();
    });
  };
  server.on('upgrade', onUpgrade);
  app.addHook('preClose', (done) => {
    server.removeListener('upgrade', onUpgrade);
    done();
  });
}

/**
 * Once close() began, a new request (an upgrade too) is a 503 SHUTDOWN in the JSON shape: no
 * stream opens that the shutdown already passed, and fastify's own 503 body never answers.
 */
export function refuseWhileShuttingDown(app: FastifyInstance, shuttingDown: () => boolean): void {
  app.addHook('onRequest', async (_request, reply) => {
    if (!shuttingDown()) return;
    reply.header('connection', 'close');
    throw new EngineGateError('SHUTDOWN', 'the gateway is shutting down');
  });
}
