// Every malformed logs request is a 400 naming what is wrong, before any engine is touched;
// an unknown container is a 404. Over WebSocket the same answers come instead of an upgrade.
import t from 'tap';
import { startGateway } from './fixtures/harness.js';

const BASE = '/passthrough/engine/logs/';

t.test('bad container references and parameters are 400s naming the problem', async (t) => {
  const { gw, client } = await startGateway(t);
  const mock = gw.engines.snapshot().engine as unknown as { activeReaders: number };
  const cases: Array<[string, string, RegExp]> = [
    ['..%2Fx', 'container', /container reference "\.\.\/x"/],
    ['%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', 'container', /container reference/],
    ['', 'container', /container reference is empty/],
    ['a'.repeat(300), 'container', /longer than 255 bytes/],
    ['-leading-dash', 'container', /not an ID or a name/],
    ['mock-chatty?tail=-1', 'tail', /^tail="-1"/],
    ['mock-chatty?tail=ten', 'tail', /^tail="ten"/],
    ['mock-chatty?since=yesterday', 'since', /^since="yesterday" is not a time/],
    ['mock-chatty?until=soon', 'until', /^until="soon"/],
    ['mock-chatty?follow=maybe', 'follow', /^follow="maybe" is not a boolean/],
    ['mock-chatty?timestamps=yes', 'timestamps', /^timestamps="yes"/],
    ['mock-chatty?stdout=TRUE', 'stdout', /^stdout="TRUE"/],
    ['mock-chatty?stdout=false&stderr=false', 'stdout', /select nothing/],
    ['mock-chatty?after=12345', 'after', /^after="12345" is not a cursor/],
    ['mock-chatty?namespace=..', 'namespace', /namespace/],
    ['mock-chatty?tail=1&tail=2', 'tail', /tail is given more than once/],
  ];
  for (const [path, parameter, message] of cases) {
    const answer = await client.get(BASE + path);
    t.equal(answer.status, 400, `${path.slice(0, 40)}: 400`);
    t.equal(answer.json.error.code, 'INVALID_ARGUMENT');
    t.match(answer.json.error.message, message, `${path.slice(0, 40)}: the message names ${parameter}`);
    const upgrade = await client.refusedUpgrade(BASE + path, ['v1.json.enginegate']);
    t.equal(upgrade.status, 400, `${path.slice(0, 40)}: the upgrade is refused with 400`);
  }
  t.equal(mock.activeReaders, 0, 'no engine stream was opened');
  t.equal(gw.openStreams, 0);
});

t.test('an offer of only unknown subprotocols is a 400 naming them', async (t) => {
  const { client } = await startGateway(t);
  const answer = await client.refusedUpgrade(BASE + 'mock-chatty', ['v2.fancy.enginegate', 'chat']);
  t.equal(answer.status, 400);
  t.equal(answer.json.error.code, 'INVALID_ARGUMENT');
  t.match(answer.json.error.message, /"v2\.fancy\.enginegate", "chat"/);
  t.match(answer.json.error.message, /v1\.json\.enginegate/, 'and says what is known');
});

t.test('an unknown container is a 404; a known one by ID prefix is found', async (t) => {
  const { client } = await startGateway(t);
  const missing = await client.get(BASE + 'no-such-container');
  t.equal(missing.status, 404);
  t.same(missing.json, { error: { code: 'CONTAINER_NOT_FOUND', message: 'no such container: no-such-container' } });
  t.equal((await client.refusedUpgrade(BASE + 'no-such-container')).status, 404);
  const containers = (await client.get('/passthrough/engine/containers')).json as Array<{
    id: string;
    names: string[];
  }>;
  const exit = containers.find((c) => c.names.includes('mock-exit'))!;
  const byPrefix = await client.get(BASE + exit.id.slice(0, 12) + '?follow=false&tail=1');
  t.equal(byPrefix.status, 200);
  t.match(byPrefix.text, /^exit line \d+ of 20\n$/);
});

t.test('unknown routes are 404 in the JSON error shape; a big body is refused', async (t) => {
  const { client } = await startGateway(t);
  const unknown = await client.get('/no/such/route');
  t.equal(unknown.status, 404);
  t.equal(unknown.json.error.code, 'NOT_FOUND');
  const unknownPassthrough = await client.get('/passthrough/mock/nothing');
  t.equal(unknownPassthrough.status, 404);
  t.equal(unknownPassthrough.json.error.code, 'NOT_FOUND');
  const big = await client.request('PUT', '/engine', { name: 'x'.repeat(100_000) });
  t.equal(big.status, 413);
  t.equal(big.json.error.code, 'PAYLOAD_TOO_LARGE');
});
