// Findings 4 and 5 of issue 12: header and body timeouts, the connection caps (total and per
// client), the per-client stream cap, and the Host allow-list against DNS rebinding.
import t, { type Test } from 'tap';
import { connect, type Socket } from 'node:net';
import { createGateway } from '@enginegate/gateway';
import { eventually, sleep, startGateway, TOKEN } from './fixtures/harness.js';
import { rawExchange, upgradeRequest } from './fixtures/raw-http.js';

const auth = `Authorization: Bearer ${TOKEN}`;

/** Idle TCP connections to the gateway, each open (accepted) before this resolves. */
async function idleConnections(t: Test, url: string, count: number): Promise<Socket[]> {
  const { hostname, port } = new URL(url);
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => resolve(socket));
          socket.on('error', reject);
        }),
    ),
  );
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  return sockets;
}

t.test('the default limits', async (t) => {
  const gw = await createGateway({ port: 0, token: TOKEN, logger: false, engine: null });
  t.teardown(() => gw.close());
  t.equal(gw.app.server.headersTimeout, 10_000, 'headers within 10 s');
  t.equal(gw.app.server.requestTimeout, 20_000, 'headers and body within 10 s each');
});

t.test('a body that stops short is a 408 in the JSON shape within the body timeout', { timeout: 60_000 }, async (t) => {
  const { url } = await startGateway(t, { headersTimeoutMs: 1000, bodyTimeoutMs: 1000 });
  const started = Date.now();
  const answer = await rawExchange(
    url,
    [
      'PUT /engine HTTP/1.1',
      'Host: 127.0.0.1',
      auth,
      'Content-Type: application/json',
      'Content-Length: 100',
      '',
      '{"name":',
    ].join('\r\n'),
    { timeoutMs: 20_000, untilAnswer: false },
  );
  const took = Date.now() - started;
  t.equal(answer.status, 408, '408');
  t.equal(answer.json?.error?.code, 'REQUEST_TIMEOUT');
  t.ok(answer.closed, 'the connection is closed');
  t.ok(took < 8000, `answered after ${took} ms (limit 2 s, checked every second)`);
});

t.test('headers that never end are a 408 within the headers timeout', { timeout: 60_000 }, async (t) => {
  const { url } = await startGateway(t, { headersTimeoutMs: 1000, bodyTimeoutMs: 1000 });
  const started = Date.now();
  const answer = await rawExchange(url, 'GET /engine HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n', {
    timeoutMs: 20_000,
  });
  t.equal(answer.status, 408);
  t.equal(answer.json?.error?.code, 'REQUEST_TIMEOUT');
  t.ok(Date.now() - started < 8000, `answered after ${Date.now() - started} ms`);
});

t.test('over the total connection cap a request gets 503 TOO_MANY_CONNECTIONS; freed, it is served', async (t) => {
  const { url } = await startGateway(t, { maxConnections: 5 });
  const idle = await idleConnections(t, url, 5);
  const refused = await rawExchange(url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  t.equal(refused.status, 503);
  t.equal(refused.json?.error?.code, 'TOO_MANY_CONNECTIONS');
  t.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After');
  idle.forEach((s) => s.destroy());
  let status = 0;
  for (let attempt = 0; attempt < 50 && status !== 200; attempt += 1) {
    await sleep(100);
    status = (await rawExchange(url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n').catch(() => ({ status: 0 })))
      .status;
  }
  t.equal(status, 200, 'served again once connections closed');
});

t.test('over the per-client connection cap a request gets 503 TOO_MANY_CONNECTIONS', async (t) => {
  const { url } = await startGateway(t, { maxConnectionsPerClient: 3 });
  await idleConnections(t, url, 3);
  const refused = await rawExchange(url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  t.equal(refused.status, 503);
  t.equal(refused.json?.error?.code, 'TOO_MANY_CONNECTIONS');
  t.match(refused.json?.error?.message, /from 127\.0\.0\.1/);
});

t.test('over the per-client stream cap: HTTP 503 TOO_MANY_STREAMS, WebSocket 1013', async (t) => {
  const { gw, client } = await startGateway(t, { maxStreamsPerClient: 2 });
  const a = client.logsSocket('mock-chatty', { tail: 1 }, ['v1.json.enginegate']);
  const b = client.logsSocket('mock-chatty', { tail: 1 }, ['v1.json.enginegate']);
  await Promise.all([a.opened, b.opened]);
  t.ok(await eventually(() => gw.openStreams === 2), 'two streams open');
  const http = await client.get('/passthrough/engine/logs/mock-chatty?tail=1');
  t.equal(http.status, 503);
  t.equal(http.json.error.code, 'TOO_MANY_STREAMS');
  t.match(http.json.error.message, /from 127\.0\.0\.1 \(limit 2\)/);
  const third = client.logsSocket('mock-chatty', { tail: 1 }, ['v1.json.enginegate']);
  t.equal((await third.closed).code, 1013);
  a.socket.close();
  b.socket.close();
  t.ok(await eventually(() => gw.openStreams === 0), 'the streams are released');
});

t.test('a Host that is not the gateway is a 421 before anything else, even with --no-auth', async (t) => {
  const { url, gw } = await startGateway(t, { noAuth: true, token: undefined, allowedHosts: ['gw.example'] });
  const port = new URL(url).port;
  const request = (
    host: string,
    line = 'GET /passthrough/engine/logs/mock-exit?follow=false HTTP/1.1',
    extra: string[] = [],
  ) =>
    rawExchange(url, [line, `Host: ${host}`, 'Connection: close', ...extra, '', ''].join('\r\n'), {
      untilAnswer: false,
    });
  for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`]) {
    const answer = await request(host);
    t.equal(answer.status, 421, `Host ${host}: 421`);
    t.equal(answer.json?.error?.code, 'MISDIRECTED_REQUEST');
  }
  const stop = await request(`evil.example:${port}`, 'PUT /engine HTTP/1.1', [
    'Content-Type: application/json',
    'Content-Length: 13',
    '',
    '{"name":null}',
  ]);
  t.equal(stop.status, 421, 'a rebound page cannot stop the engine');
  t.equal(gw.engines.status.state, 'running', 'the engine still runs');
  const upgrade = await rawExchange(
    url,
    upgradeRequest('/passthrough/engine/logs/mock-exit', [], `evil.example:${port}`),
  );
  t.equal(upgrade.status, 421, 'a WebSocket upgrade too');
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'gw.example', `GW.example:${port}`]) {
    t.equal((await request(host)).status, 200, `Host ${host}: served`);
  }
});
