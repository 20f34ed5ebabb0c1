// Token and Origin checks, the browser subprotocol token, --no-auth refusal, the token file.
import t from 'tap';
import { access, mkdtemp, rm, stat } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTH_SUBPROTOCOL_PREFIX, createGateway, defaultStateDir, readTokenFile } from '@enginegate/gateway';
import mockPlugin from '@enginegate/plugin-mock';
import { LogsClient } from '@enginegate/test-client';
import { TOKEN, startGateway } from './fixtures/harness.js';

const LOGS = '/passthrough/engine/logs/mock-exit?follow=false&tail=1';
const authProtocol = (token: string) => AUTH_SUBPROTOCOL_PREFIX + Buffer.from(token).toString('base64url');

t.test('no token or a wrong token: 401 on every route but /healthz', async (t) => {
  const { url, client } = await startGateway(t);
  const anonymous = new LogsClient(url);
  for (const path of [
    '/engine',
    '/readyz',
    '/metrics',
    '/passthrough',
    '/passthrough/engine/containers',
    LOGS,
    '/no/such/route',
  ]) {
    const none = await anonymous.get(path);
    t.equal(none.status, 401, `${path}: no token, 401`);
    t.equal(none.json.error.code, 'UNAUTHORIZED');
    t.equal((await client.get(path, { authorization: 'Bearer wrong' })).status, 401, `${path}: wrong token, 401`);
    t.equal(
      (await client.get(path, { authorization: `Basic ${TOKEN}` })).status,
      401,
      `${path}: not a bearer token, 401`,
    );
  }
  t.equal((await anonymous.get('/healthz')).status, 200, '/healthz needs no token');
  t.equal((await anonymous.refusedUpgrade(LOGS, ['v1.text.enginegate'])).status, 401, 'WebSocket without a token: 401');
  t.equal(
    (await anonymous.refusedUpgrade(LOGS, ['v1.text.enginegate', authProtocol('wrong')])).status,
    401,
    'wrong subprotocol token: 401',
  );
});

t.test('the subprotocol token works beside a framing subprotocol, and alone (raw framing)', async (t) => {
  const { url } = await startGateway(t);
  const browser = new LogsClient(url); // no Authorization header: the token goes in a subprotocol
  const withFraming = browser.socket(LOGS, ['v1.json.enginegate', authProtocol(TOKEN)]);
  await withFraming.opened;
  t.equal(withFraming.socket.protocol, 'v1.json.enginegate', 'the framing subprotocol is selected');
  t.equal((await withFraming.closed).code, 1000);
  t.equal(withFraming.jsonMessages()[0].type, 'line');

  const alone = browser.socket(LOGS, [authProtocol(TOKEN)]);
  await alone.opened;
  t.equal(
    alone.socket.protocol,
    authProtocol(TOKEN),
    'the auth subprotocol is echoed (browsers require a selected protocol)',
  );
  t.equal((await alone.closed).code, 1000);
  t.ok(alone.messages[0]!.isBinary, 'raw framing: binary messages');
  t.match(alone.texts()[0], /^exit line \d+ of 20\n$/);
});

t.test('a foreign Origin is refused with 403 before any upgrade; the own origin is fine', async (t) => {
  const { url, client } = await startGateway(t, { allowedOrigins: ['https://ui.example'] });
  const port = new URL(url).port;
  const evil = await client.refusedUpgrade(LOGS, [], { origin: 'https://evil.example' });
  t.equal(evil.status, 403);
  t.equal(evil.json.error.code, 'FORBIDDEN');
  t.equal((await client.get('/engine', { origin: 'https://evil.example' })).status, 403);
  t.equal((await client.get('/engine', { origin: 'null' })).status, 403, 'an opaque origin is foreign too');
  t.equal((await client.get('/engine', { origin: `http://127.0.0.1:${port}` })).status, 200, 'own origin');
  t.equal((await client.get('/engine', { origin: `http://localhost:${port}` })).status, 200, 'own origin by name');
  t.equal((await client.get('/engine', { origin: 'https://ui.example' })).status, 200, 'an allowed extra origin');
  t.equal((await client.get('/engine')).status, 200, 'no Origin (a CLI) is fine');
});

t.test('noAuth: refused on a non-loopback address, allowed on loopback', async (t) => {
  await t.rejects(
    createGateway({ host: '0.0.0.0', port: 0, noAuth: true, logger: false, engine: null }),
    /no-auth .* refused on 0\.0\.0\.0/,
  );
  await t.rejects(
    createGateway({ host: '192.168.1.10', port: 0, noAuth: true, logger: false, engine: null }),
    /refused/,
  );
  const { gw, url } = await startGateway(t, { noAuth: true, token: undefined });
  t.equal(gw.token, null);
  t.equal((await new LogsClient(url).get('/engine')).status, 200, 'no token needed');
});

t.test('a generated token is written 0600 to the state directory, where readTokenFile finds it', async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'enginegate-state-'));
  t.teardown(() => rm(stateDir, { recursive: true, force: true }));
  const saved = process.env.ENGINEGATE_TOKEN;
  delete process.env.ENGINEGATE_TOKEN;
  t.teardown(() => {
    if (saved !== undefined) process.env.ENGINEGATE_TOKEN = saved;
  });
  t.equal(readTokenFile(stateDir), null, 'no file yet');
  const gw = await createGateway({ port: 0, stateDir, logger: false, engine: null });
  t.teardown(() => gw.close());
  t.equal(gw.tokenFile, join(stateDir, 'token'));
  t.ok(gw.token && gw.token.length >= 32, 'a long random token');
  t.equal(readTokenFile(stateDir), gw.token);
  t.equal((await stat(gw.tokenFile!)).mode & 0o777, 0o600, 'mode 0600');
  const url = await gw.listen();
  t.equal((await new LogsClient(url, gw.token!).get('/engine')).status, 200);

  t.equal(defaultStateDir({ ENGINEGATE_STATE_DIR: '/x/state' }), '/x/state');
  t.equal(defaultStateDir({ XDG_STATE_HOME: '/x/xdg' }), '/x/xdg/enginegate');
  t.match(defaultStateDir({}), /\.local\/state\/enginegate$/);
});

t.test('a unix socket: mode 0600, served, --no-auth allowed on it whatever the host', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'enginegate-sock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const socket = join(dir, 'gateway.sock');
  const gw = await createGateway({
    socket,
    host: '0.0.0.0',
    noAuth: true,
    logger: false,
    engine: 'mock',
    builtinPlugins: [mockPlugin],
  });
  t.equal(await gw.listen(), `unix:${socket}`);
  t.equal((await stat(socket)).mode & 0o777, 0o600, 'mode 0600');
  const body = await new Promise<string>((resolve, reject) => {
    get({ socketPath: socket, path: '/engine', agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  t.same(JSON.parse(body), { name: 'mock', state: 'running', available: ['mock'] });
  await gw.close();
  await t.rejects(access(socket), 'the socket file is removed on close');

  // A stale socket file (its process was killed) does not stop the next start.
  const { spawnSync } = await import('node:child_process');
  spawnSync(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  t.ok((await stat(socket)).isSocket(), 'a stale socket file is left behind');
  const again = await createGateway({ socket, noAuth: true, logger: false, engine: null });
  t.teardown(() => again.close());
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'not-a-socket'), 'x');
  const blocked = await createGateway({ socket: join(dir, 'not-a-socket'), noAuth: true, logger: false, engine: null });
  t.teardown(() => blocked.close());
  await t.rejects(blocked.listen(), /exists and is not a socket/, 'a regular file is never deleted');
  t.equal(await again.listen(), `unix:${socket}`);
});
