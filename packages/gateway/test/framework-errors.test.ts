// Finding 3 of issue 12: every error — the router's, the HTTP parser's, the WebSocket layer's —
// is the JSON error shape with a code, before any auth check, and echoes no long input.
// Finding 7 (first half): an upgrade of a route that is not a WebSocket route is no 101.
import t, { type Test } from 'tap';
import { ERROR_CODES } from '@enginegate/plugin-api';
import { startGateway } from './fixtures/harness.js';
import { rawExchange, upgradeRequest, type RawAnswer } from './fixtures/raw-http.js';

const get = (path: string, extra: string[] = []) =>
  [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...extra, '', ''].join('\r\n');

function assertJsonError(t: Test, answer: RawAnswer, status: number, code: string, what: string): void {
  t.equal(answer.status, status, `${what}: ${status}`);
  t.match(answer.headers['content-type'], /^application\/json/, `${what}: a JSON body`);
  t.equal(answer.json?.error?.code, code, `${what}: code ${code}`);
  t.equal(ERROR_CODES[code as keyof typeof ERROR_CODES], status, `${what}: ${code} is listed with status ${status}`);
  t.type(answer.json?.error?.message, 'string', `${what}: a message`);
  t.notOk(answer.body.includes('a'.repeat(65)), `${what}: the input is not echoed`);
}

t.test("the router's and the HTTP parser's refusals are JSON errors with a code", async (t) => {
  const { url } = await startGateway(t);
  const long = 'a'.repeat(15_000);
  assertJsonError(
    t,
    await rawExchange(url, get(`/passthrough/engine/logs/%zz${long}`)),
    400,
    'BAD_REQUEST',
    'a bad URL',
  );
  assertJsonError(
    t,
    await rawExchange(url, get(`/passthrough/engine/logs/${'a'.repeat(2000)}`)),
    414,
    'URI_TOO_LONG',
    'a 2000-character container',
  );
  assertJsonError(
    t,
    await rawExchange(url, get('/engine', [`X-Big: ${'a'.repeat(20_000)}`])),
    431,
    'HEADERS_TOO_LARGE',
    'headers over 16 KiB',
  );
  assertJsonError(t, await rawExchange(url, 'HELLO THERE\r\n\r\n'), 400, 'BAD_REQUEST', 'not HTTP');
  assertJsonError(
    t,
    await rawExchange(url, `GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`),
    400,
    'BAD_REQUEST',
    'a malformed header line',
  );
});

// Found by the fuzz suite (test/fuzz): node's HTTP server closes a CONNECT with no answer when
// nothing listens for it.
t.test('a CONNECT request is a 400 BAD_REQUEST in the JSON shape, not a closed connection', async (t) => {
  const { url } = await startGateway(t);
  for (const target of ['127.0.0.1:1', `${'a'.repeat(1000)}:443`]) {
    const request = `CONNECT ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const answer = await rawExchange(url, request, { untilAnswer: false, timeoutMs: 5000 });
    assertJsonError(t, answer, 400, 'BAD_REQUEST', `CONNECT ${target.slice(0, 12)}`);
    t.ok(answer.closed, 'the connection is closed after the answer');
  }
});

t.test("the WebSocket layer's refusals are JSON errors too, before any token check", async (t) => {
  const { url } = await startGateway(t);
  const logs = '/passthrough/engine/logs/mock-exit?follow=false';
  const cases: Array<[string, string]> = [
    ['a malformed subprotocol list', upgradeRequest(logs, ['Sec-WebSocket-Protocol: v1.json.enginegate,,x y'])],
    ['a repeated subprotocol', upgradeRequest(logs, ['Sec-WebSocket-Protocol: a, a'])],
    ['no key', upgradeRequest(logs).replace(/Sec-WebSocket-Key: .*\r\n/, '')],
    ['a wrong version', upgradeRequest(logs).replace('Version: 13', 'Version: 99')],
    ['an Upgrade that is not websocket', upgradeRequest(logs).replace('Upgrade: websocket', 'Upgrade: h2c')],
  ];
  for (const [what, request] of cases) assertJsonError(t, await rawExchange(url, request), 400, 'BAD_REQUEST', what);
});

t.test('an upgrade of a route that is not a WebSocket route is a 400, never a 101', async (t) => {
  const { url } = await startGateway(t);
  for (const path of ['/healthz', '/engine', '/readyz']) {
    const answer = await rawExchange(url, upgradeRequest(path), { timeoutMs: 5000 });
    t.not(answer.status, 101, `${path}: no 101`);
    assertJsonError(t, answer, 400, 'BAD_REQUEST', `an upgrade of ${path}`);
  }
});
