// GET /passthrough is sorted and byte-identical across starts; engine endpoints are served; two
// gateways in one process share nothing.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { startGateway } from './fixtures/harness.js';

const goodPlugin = fileURLToPath(new URL('./fixtures/plugins/good-plugin.mjs', import.meta.url));

t.test('discovery is byte-identical across two gateway starts', async (t) => {
  const first = await startGateway(t, { plugins: [goodPlugin] });
  const second = await startGateway(t, { plugins: [goodPlugin] });
  const a = await first.client.get('/passthrough');
  const b = await second.client.get('/passthrough');
  t.equal(a.status, 200);
  t.ok(a.body.equals(b.body), 'the same bytes');
  t.same(a.json, {
    engine: { name: 'mock', state: 'running' },
    endpoints: [
      { controller: 'engine', endpoint: 'containers', path: '/passthrough/engine/containers' },
      { controller: 'engine', endpoint: 'events', path: '/passthrough/engine/events' },
      { controller: 'engine', endpoint: 'logs', path: '/passthrough/engine/logs/{container}' },
    ],
  });
});

t.test("the active engine's passthrough endpoints are listed sorted and served; clashes are skipped", async (t) => {
  const { client } = await startGateway(t, { plugins: [goodPlugin], engine: 'good' });
  const discovery = (await client.get('/passthrough')).json;
  t.same(discovery.engine, { name: 'good', state: 'running' });
  t.same(
    discovery.endpoints.map((e: { controller: string; endpoint: string }) => `${e.controller}/${e.endpoint}`),
    ['alpha/info', 'engine/containers', 'engine/events', 'engine/logs', 'good/version'],
    'sorted by controller then endpoint; the clashing engine/logs is the built-in one',
  );
  t.same((await client.get('/passthrough/good/version?echo=hi')).json, { version: '1.2.3', echo: 'hi' });
  t.same((await client.get('/passthrough/alpha/info')).json, { alpha: true });
  // Switching back to mock withdraws them.
  await client.request('PUT', '/engine', '{"name":"mock"}');
  t.equal((await client.get('/passthrough/good/version')).status, 404);
});

t.test('two gateways in one process share nothing', async (t) => {
  const one = await startGateway(t);
  const two = await startGateway(t);
  t.not(one.gw.container, two.gw.container, 'separate awilix containers');
  t.not(one.gw.engines, two.gw.engines);
  const client = one.client.socket('/passthrough/engine/logs/mock-chatty?tail=0', ['v1.text.enginegate']);
  await client.opened;
  t.equal(one.gw.openStreams, 1);
  t.equal(two.gw.openStreams, 0);
  const metricsOne = (await one.client.get('/metrics')).text;
  const metricsTwo = (await two.client.get('/metrics')).text;
  t.match(metricsOne, /^enginegate_open_streams 1$/m);
  t.match(metricsTwo, /^enginegate_open_streams 0$/m, 'separate metric registries');
  t.match(metricsOne, /^enginegate_streams_total\{transport="websocket",framing="text"\} 1$/m);
  t.match(metricsOne, /^enginegate_engine_state\{engine="mock",state="running"\} 1$/m);
  await two.client.request('PUT', '/engine', '{"name":null}');
  t.equal(one.gw.engines.state, 'running', 'stopping one engine leaves the other gateway alone');
  t.equal(client.socket.readyState, client.socket.OPEN);
  client.socket.close();
  await client.closed;
});

t.test('readyz follows the engine', async (t) => {
  const { client } = await startGateway(t);
  t.same((await client.get('/readyz')).json, { status: 'ready', engine: { name: 'mock', state: 'running' } });
  await client.request('PUT', '/engine', '{"name":null}');
  const notReady = await client.get('/readyz');
  t.equal(notReady.status, 503);
  t.ok(notReady.headers.get('retry-after'));
});
