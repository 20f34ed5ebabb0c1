// Found by the WebSocket fuzz (issue 12): node's closeAllConnections() leaves upgraded sockets
// alone, and ws ends only those that became its clients, so close() waited on any other
// upgraded connection for as long as its client kept it open. And an upgrade pipelined behind
// another request on one connection was never answered (@fastify/websocket could not take the
// socket while the first answer held it), which was such a connection. A request that came
// once close() began was served as usual (a stream the shutdown had passed) or, once fastify
// closed, got fastify's own 503 body instead of the JSON shape.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { startGateway, TOKEN } from './fixtures/harness.js';
import { upgradeRequest } from './fixtures/raw-http.js';

/** A connection that writes `bytes`, collects what comes back, and reports when the gateway closed it. */
function openConnection(url: string, bytes: string, localAddress?: string) {
  const { port } = new URL(url);
  const socket: Socket = connect({ port: Number(port), host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(bytes);
  return { socket, closed, received: () => received.toString('latin1') };
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> =>
  Promise.race([promise, new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms).unref())]);

const healthz = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
const logsUpgrade = upgradeRequest('/passthrough/engine/logs/mock-chatty?tail=1', [
  `Authorization: Bearer ${TOKEN}`,
  'Sec-WebSocket-Protocol: v1.json.enginegate',
]);

t.test('an upgrade pipelined behind another request is answered 101 once that answer is sent', async (t) => {
  const { url } = await startGateway(t);
  const connection = openConnection(url, healthz + logsUpgrade);
  t.teardown(() => connection.socket.destroy());
  const deadline = Date.now() + 3000;
  while (!/\r\n\r\n[^]*101 Switching Protocols[^]*"type":"line"/.test(connection.received()) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  const text = connection.received();
  t.match(text, /^HTTP\/1\.1 200 OK\r\n/, 'the first request is answered first');
  t.match(text, /\r\n\r\n\{"status":"ok"\}HTTP\/1\.1 101 Switching Protocols\r\n/, 'then the upgrade, right after it');
  t.match(text, /"type":"line"/, 'and the stream sends its lines');
});

t.test('close() ends an upgraded connection that is nobody’s client, within its grace', async (t) => {
  const { gw, url } = await startGateway(t);
  // Upgrades with a wrong token from one address: after 10 failures each 401 is held back, up
  // to 2 s, while the socket is already the upgrade's (no HTTP connection, no ws client).
  const held = Array.from({ length: 16 }, () =>
    openConnection(
      url,
      upgradeRequest('/passthrough/engine/logs/mock-chatty', ['Authorization: Bearer wrong']),
      '127.0.0.9',
    ),
  );
  t.teardown(() => held.forEach((c) => c.socket.destroy()));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const started = Date.now();
  const closed = await withTimeout(gw.close(), 5000);
  const ms = Date.now() - started;
  t.not(closed, 'timed out', 'close() returns');
  t.ok(ms < 1000, `close() did not wait for the held-back answers (${ms} ms)`);
  const ended = await withTimeout(Promise.all(held.map((c) => c.closed)), 1000);
  t.not(ended, 'timed out', 'every one of those connections is closed');
});

t.test('requests that come while the gateway shuts down are a JSON 503 SHUTDOWN, upgrades too', async (t) => {
  const { gw, url } = await startGateway(t);
  // A follower that never answers the 1001 holds close() in its handshake grace (1 s).
  const follower = openConnection(url, logsUpgrade);
  t.teardown(() => follower.socket.destroy());
  while (!follower.received().includes('"type":"line"')) await new Promise((resolve) => setTimeout(resolve, 20));
  const closing = gw.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const plain = openConnection(
    url,
    `GET /engine HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`,
  );
  const upgrade = openConnection(url, logsUpgrade);
  await Promise.all([withTimeout(plain.closed, 3000), withTimeout(upgrade.closed, 3000)]);
  for (const [what, connection] of [
    ['GET /engine', plain],
    ['an upgrade', upgrade],
  ] as const) {
    const text = connection.received();
    t.match(text, /^HTTP\/1\.1 503 /, `${what}: 503`);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { error?: { code?: string } };
    t.equal(body.error?.code, 'SHUTDOWN', `${what}: the JSON error SHUTDOWN`);
  }
  await closing;
});
