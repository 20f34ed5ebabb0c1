// The logs route when there is no running engine, and what open streams see when the engine is
// switched or lost: 503 + Retry-After before any upgrade, 1012 after it — never a crash.
import t, { type Test } from 'tap';
import type { LogsClient } from '@enginegate/test-client';
import { eventually, startGateway } from './fixtures/harness.js';
import {
  downPlugin,
  failingLogsPlugin,
  hangingPlugin,
  hungOpenPlugin,
  renamedMockPlugin,
} from './fixtures/test-engines.js';

const LOGS = '/passthrough/engine/logs/mock-chatty';

async function expectUnavailable(t: Test, client: LogsClient, messagePattern: RegExp) {
  const plain = await client.get(LOGS);
  t.equal(plain.status, 503, 'plain HTTP logs: 503');
  t.match(plain.headers.get('retry-after'), /^\d+$/, 'with Retry-After');
  t.equal(plain.json.error.code, 'ENGINE_UNAVAILABLE');
  t.match(plain.json.error.message, messagePattern);
  const upgrade = await client.refusedUpgrade(LOGS, ['v1.json.enginegate']);
  t.equal(upgrade.status, 503, 'WebSocket upgrade refused with 503');
  t.match(upgrade.headers.get('retry-after'), /^\d+$/);
  t.equal(upgrade.json.error.code, 'ENGINE_UNAVAILABLE');
  t.equal((await client.get('/readyz')).status, 503, 'not ready');
  t.equal((await client.get('/passthrough/engine/containers')).status, 503, 'containers: 503');
}

t.test('no engine active (engine: null)', async (t) => {
  const { gw, client } = await startGateway(t, { engine: null });
  t.same((await client.get('/engine')).json, { name: null, state: 'stopped', available: ['mock'] });
  await expectUnavailable(t, client, /no engine is active/);
  t.equal(gw.openStreams, 0);
  t.equal((await client.get('/healthz')).status, 200, 'the gateway itself is alive');
});

t.test('engine starting (start() never settles)', async (t) => {
  const { gw, client } = await startGateway(t, { engine: 'hanging', plugins: [hangingPlugin] });
  t.equal(gw.engines.state, 'starting');
  await expectUnavailable(t, client, /hanging is starting/);
  // A switch away from a hung start is not blocked by it.
  t.same((await client.request('PUT', '/engine', '{"name":"mock"}')).json, {
    name: 'mock',
    state: 'running',
  });
});

t.test('engine unavailable, retried with backoff, recovers when its daemon starts', async (t) => {
  const daemon = { up: false, starts: 0 };
  const { gw, client } = await startGateway(t, {
    engine: 'down',
    plugins: [downPlugin(daemon)],
    healthIntervalMs: 50,
  });
  t.equal(gw.engines.state, 'unavailable');
  await expectUnavailable(t, client, /down is unavailable: .*ECONNREFUSED/);
  t.ok(await eventually(() => daemon.starts >= 3), `start() is retried (${daemon.starts} attempts)`);
  daemon.up = true;
  t.ok(await eventually(() => gw.engines.state === 'running'), 'running once the daemon is up');
  const stream = client.socket(LOGS + '?follow=false&tail=2', ['v1.text.enginegate']);
  t.same(await stream.closed, { code: 1000, reason: 'end of logs' });
  t.equal(stream.messages.length, 2);
});

t.test('engine lost while streams are open: 1012 "engine lost", new requests 503, then recovery', async (t) => {
  const daemon = { up: true, starts: 0 };
  const { gw, client } = await startGateway(t, {
    engine: 'down',
    plugins: [downPlugin(daemon)],
    healthIntervalMs: 50,
  });
  t.equal(gw.engines.state, 'running');
  const stream = client.socket(LOGS + '?tail=1', ['v1.json.enginegate']);
  await stream.waitForMessages(1);
  daemon.up = false;
  const closed = await stream.closed;
  t.equal(closed.code, 1012);
  t.match(closed.reason, /^engine lost: daemon down/);
  t.equal(gw.engines.state, 'unavailable');
  t.equal((await client.get(LOGS)).status, 503);
  daemon.up = true;
  t.ok(await eventually(() => gw.engines.state === 'running'), 'recovers');
  t.equal(gw.openStreams, 0);
});

t.test('a source that throws EngineUnavailableError mid-stream closes 1012 and re-checks health at once', async (t) => {
  const failure = { kind: 'lost' as 'lost' | 'error' };
  const health = { checks: 0 };
  const { gw, client } = await startGateway(t, {
    engine: 'failing',
    plugins: [failingLogsPlugin(failure, health)],
    healthIntervalMs: 60_000, // the poll will not come on its own during this test
  });
  const checksBefore = health.checks;
  const lost = client.socket('/passthrough/engine/logs/any', ['v1.text.enginegate']);
  const closed = await lost.closed;
  t.same(lost.texts(), ['only line'], 'the line before the failure was delivered');
  t.equal(closed.code, 1012);
  t.equal(closed.reason, 'engine lost: connection to the daemon reset');
  t.ok(await eventually(() => health.checks > checksBefore, 2000), 'health was checked right away');

  failure.kind = 'error';
  const broken = client.socket('/passthrough/engine/logs/any', ['v1.json.enginegate']);
  const brokenClose = await broken.closed;
  t.equal(brokenClose.code, 1011, 'any other exception is 1011');
  t.match(brokenClose.reason, /decoder exploded/);
  t.equal(gw.openStreams, 0);
});

t.test('50 open streams and concurrent engine switches: every old stream closes 1012, nothing crashes', async (t) => {
  const { gw, client } = await startGateway(t, { plugins: [renamedMockPlugin('second')] });
  const framings = [[], ['v1.text.enginegate'], ['v1.json.enginegate'], ['v1.binary.enginegate']];
  const clients = Array.from({ length: 50 }, (_, i) => client.socket(`${LOGS}?tail=5`, framings[i % 4]));
  await Promise.all(clients.map((c) => c.opened));
  await Promise.all(clients.map((c) => c.waitForMessages(1)));
  t.equal(gw.openStreams, 50);

  const put = (name: string) => client.request('PUT', '/engine', { name });
  const answers = await Promise.all([put('second'), put('mock'), put('second'), put('mock')]);
  t.same(
    answers.map((a) => a.status),
    [200, 200, 200, 200],
  );
  t.same(gw.engines.status, { name: 'mock', state: 'running' }, 'the last switch wins');

  const closes = await Promise.all(clients.map((c) => c.closed));
  t.same(new Set(closes.map((c) => c.code)), new Set([1012]), 'every stream closed 1012');
  t.ok(
    closes.every((c) => c.reason === 'engine switched to second'),
    'the reason names the new engine',
  );
  t.ok(await eventually(() => gw.openStreams === 0), 'no stream left open');

  // Streams opened during the switches either got a 503 before the upgrade or were closed 1012.
  const after = client.socket(`${LOGS}?follow=false&tail=3`, ['v1.text.enginegate']);
  t.same(await after.closed, { code: 1000, reason: 'end of logs' }, 'the gateway serves the new engine');
  t.equal(after.messages.length, 3);
  t.equal((await client.get('/healthz')).status, 200);
});

t.test('an engine switch ends plain HTTP streams too', async (t) => {
  const { gw, client } = await startGateway(t, { plugins: [renamedMockPlugin('second')] });
  const ndjson = client.get(LOGS + '?tail=1', { accept: 'application/x-ndjson' });
  const raw = client.get(LOGS + '?tail=1');
  t.ok(await eventually(() => gw.openStreams === 2), 'both streams open');
  await client.request('PUT', '/engine', '{"name":"second"}');
  const records = (await ndjson).text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.same(
    records[records.length - 1],
    { type: 'error', code: 'ENGINE_UNAVAILABLE', message: 'engine switched to second' },
    'NDJSON ends with why',
  );
  await t.rejects(raw, 'text/plain is cut off (no final chunk), so the client sees an incomplete body');
  t.ok(await eventually(() => gw.openStreams === 0));
});

t.test('requests hung in open() when the engine is lost are 503 at once, not 500 or a hang', async (t) => {
  const opens = { count: 0 };
  const { gw, client } = await startGateway(t, { engine: 'hung', plugins: [hungOpenPlugin(opens)] });
  const logs = '/passthrough/engine/logs/web';
  // follow=false opens on the engine directly; the two followers wait on one shared tail's open.
  const answers = [
    ['plain HTTP, follow=false', client.get(`${logs}?follow=false`)],
    ['plain HTTP, following', client.get(logs)],
    ['WebSocket upgrade, following', client.refusedUpgrade(logs, ['v1.json.enginegate'])],
  ] as const;
  t.ok(await eventually(() => opens.count === 2 && gw.openStreams === 3), 'all three are opening their sources');
  const switchedAt = performance.now();
  await client.request('PUT', '/engine', '{"name":"mock"}');
  for (const [what, pending] of answers) {
    const answer = await pending;
    t.equal(answer.status, 503, `${what}: 503`);
    t.equal(answer.json.error.code, 'ENGINE_UNAVAILABLE');
    t.match(answer.json.error.message, /changed while the logs were being opened; retry/);
    t.match(answer.headers.get('retry-after'), /^\d+$/, 'with Retry-After');
  }
  t.ok(performance.now() - switchedAt < 2000, 'answered as the engine changed, not after some timeout');
  t.ok(await eventually(() => gw.openStreams === 0), 'nothing left open');
});

t.test('PUT /engine with an unknown name or a bad body is a 400', async (t) => {
  const { gw, client } = await startGateway(t);
  const put = (body: string) => client.request('PUT', '/engine', body);
  const unknown = await put('{"name":"nosuch"}');
  t.equal(unknown.status, 400);
  t.match(unknown.json.error, { code: 'INVALID_ARGUMENT', message: /unknown engine "nosuch"/ });
  t.equal((await put('{"name":5}')).status, 400);
  t.equal((await put('[]')).status, 400);
  t.equal((await put('{not json')).status, 400);
  t.same(gw.engines.status, { name: 'mock', state: 'running' }, 'unchanged');
  t.same((await put('{"name":null}')).json, { name: null, state: 'stopped' });
  t.same((await client.get('/engine')).json, { name: null, state: 'stopped', available: ['mock'] });
});
