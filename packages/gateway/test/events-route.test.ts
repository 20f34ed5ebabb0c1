// GET /passthrough/engine/events: present records, synced, then live events — from the mock
// engine's own events and, for an engine without events(), from the gateway's poller — over
// WebSocket and NDJSON; 1012 on an engine switch; the auth and origin checks of every route.
import t from 'tap';
import { definePlugin, PLUGIN_API_VERSION, type Engine } from '@enginegate/plugin-api';
import { MOCK_CONTAINERS, MockEngine } from '@enginegate/plugin-mock';
import { eventually, startGateway } from './fixtures/harness.js';

const EVENTS = '/passthrough/engine/events';
const JSON_FRAMING = ['v1.json.enginegate'];
const spec = { lineCount: 1, intervalMs: 0, lineAt: () => ({ stream: 'stdout' as const, bytes: Buffer.from('x') }) };

/** A mock engine without events(): the gateway has to poll it. */
function pollOnlyPlugin(mock: MockEngine) {
  return definePlugin({
    name: 'polled',
    apiVersion: PLUGIN_API_VERSION,
    register(): Engine {
      return {
        name: 'polled',
        start: () => mock.start(),
        stop: () => mock.stop(),
        health: () => mock.health(),
        containers: () => mock.containers(),
        logs: mock.logs,
      };
    },
  });
}

const actionsOf = (records: any[], name: string) =>
  records.filter((r) => r.type === 'container' && r.container.names[0] === name).map((r) => r.action);

t.test('mock: present per container, synced, then create, start, die (with its code) and destroy', async (t) => {
  const { gw, client } = await startGateway(t);
  const mock = gw.engines.engineNamed('mock') as MockEngine;
  const socket = client.socket(EVENTS, JSON_FRAMING);
  await socket.opened;
  t.equal(socket.protocol, 'v1.json.enginegate');
  await socket.waitFor((m) => m.some((x) => x.data.toString() === '{"type":"synced"}'), 'synced');
  const expected = socket.jsonMessages().findIndex((r) => r.type === 'synced');
  const first = socket.jsonMessages().slice(0, expected);
  t.ok(
    first.every((r) => r.type === 'container' && r.action === 'present' && r.time === undefined),
    'present records first, without time',
  );
  const listed = (await mock.containers()).map((c) => c.id);
  t.ok(
    first.every((r) => listed.includes(r.container.id)) && first.length >= listed.length - 1,
    `a present record per container (${first.length})`,
  );
  const chatty = first.find((r) => r.container.id === MOCK_CONTAINERS['mock-chatty']);
  t.match(chatty.container, { names: ['mock-chatty'], state: 'running', labels: {} });
  const web = first.find((r) => r.container.names[0] === 'demo-web-1');
  t.match(web.container.labels, { 'com.docker.compose.project': 'demo', 'com.docker.compose.service': 'web' });

  mock.addContainer({ ...spec, name: 'egx-later', lineCount: 3, intervalMs: 100, exitCode: 5, labels: { a: 'b' } });
  await socket.waitFor(() => actionsOf(socket.jsonMessages(), 'egx-later').includes('die'), 'egx-later dying');
  mock.removeContainer('egx-later');
  await socket.waitFor(() => actionsOf(socket.jsonMessages(), 'egx-later').includes('destroy'), 'destroy');
  const records = socket.jsonMessages().filter((r) => r.container?.names[0] === 'egx-later');
  t.same(
    records.map((r) => [r.action, r.container.state]),
    [
      ['create', 'created'],
      ['start', 'running'],
      ['die', 'exited'],
      ['destroy', 'removed'],
    ],
  );
  t.match(records[0], { type: 'container', container: { labels: { a: 'b' } }, time: /^\d{4}-\d\d-\d\dT.*Z$/ });
  t.equal(records[2].exitCode, 5, 'die carries the exit code');
  socket.close();
  t.ok(await eventually(() => gw.openStreams === 0), 'the stream is released when the client leaves');
});

t.test(
  'NDJSON over plain HTTP, whatever the Accept header; an engine switch ends it with an error record',
  async (t) => {
    const polled = new MockEngine({ builtinContainers: false });
    const { gw, client } = await startGateway(t, { plugins: [pollOnlyPlugin(polled)] });
    const answer = client.get(EVENTS);
    t.ok(await eventually(() => gw.openStreams === 1), 'the stream is open');
    const ws = client.socket(EVENTS);
    await ws.opened;
    t.equal(ws.protocol, '', 'no framing offered: JSON messages all the same');
    await ws.waitFor((m) => m.some((x) => x.data.toString() === '{"type":"synced"}'), 'synced');
    await client.request('PUT', '/engine', { name: 'polled' });
    const body = await answer;
    t.match(body.headers.get('content-type'), /^application\/x-ndjson/);
    const records = body.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    t.ok(records.some((r) => r.type === 'synced'));
    t.same(records.at(-1), { type: 'error', code: 'ENGINE_UNAVAILABLE', message: 'engine switched to polled' });
    t.same(await ws.closed, { code: 1012, reason: 'engine switched to polled' }, 'the WebSocket closes 1012');
  },
);

t.test('an engine without events() is polled: create, start, die, destroy', async (t) => {
  const polled = new MockEngine({ builtinContainers: false });
  const { gw, client } = await startGateway(t, {
    plugins: [pollOnlyPlugin(polled)],
    engine: 'polled',
    eventsPollIntervalMs: 100,
  });
  polled.addContainer({ ...spec, name: 'before' });
  const a = client.socket(EVENTS, JSON_FRAMING);
  const b = client.socket(EVENTS, JSON_FRAMING);
  await Promise.all([a.opened, b.opened]);
  for (const socket of [a, b]) await socket.waitFor((m) => m.length >= 2, 'present and synced');
  t.same(
    a.jsonMessages().map((r) => r.action ?? r.type),
    ['present', 'synced'],
  );
  polled.addContainer({ ...spec, name: 'later', lineCount: 3, intervalMs: 300, exitCode: 4 });
  await a.waitFor(() => actionsOf(a.jsonMessages(), 'later').includes('die'), 'later dying');
  polled.removeContainer('later');
  polled.removeContainer('before');
  for (const socket of [a, b]) {
    await socket.waitFor(() => actionsOf(socket.jsonMessages(), 'before').includes('destroy'), 'destroy');
    t.same(actionsOf(socket.jsonMessages(), 'later'), ['create', 'start', 'die', 'destroy'], 'in order');
  }
  t.notOk(a.jsonMessages().find((r) => r.action === 'die').exitCode !== undefined, 'a listing has no exit code');
  a.close();
  b.close();
  t.ok(await eventually(() => gw.openStreams === 0));
});

t.test('auth, origin and framing are checked before any upgrade; a stopped engine is a 503', async (t) => {
  const { client } = await startGateway(t, { engine: null });
  t.equal((await client.get(EVENTS, { authorization: '' })).status, 401);
  t.equal((await client.get(EVENTS, { origin: 'http://evil.example' })).status, 403);
  const refused = await client.refusedUpgrade(EVENTS, ['v1.text.enginegate']);
  t.equal(refused.status, 400, 'events are JSON only');
  t.equal(refused.json.error.code, 'INVALID_ARGUMENT');
  const stopped = await client.refusedUpgrade(EVENTS, JSON_FRAMING);
  t.equal(stopped.status, 503);
  t.equal((await client.get(EVENTS)).status, 503);
});
