// GET /passthrough is sorted and byte-identical across starts; engine endpoints are served; two
// gateways in one process share nothing.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { LogClient, http, startGateway } from './fixtures/harness.js';

const goodPlugin = fileURLToPath(new URL('./fixtures/plugins/good-plugin.mjs', import.meta.url));

t.test('discovery is byte-identical across two gateway starts', async (t) => {
  const first = await startGateway(t, { plugins: [goodPlugin] });
  const second = await startGateway(t, { plugins: [goodPlugin] });
  const a = await http(first.url + '/passthrough');
  const b = await http(second.url + '/passthrough');
  t.equal(a.status, 200);
  t.ok(a.body.equals(b.body), 'the same bytes');
  t.same(a.json(), {
    engine: { name: 'mock', state: 'running' },
    endpoints: [
      { controller: 'engine', endpoint: 'containers', path: '/passthrough/engine/containers' },
      { controller: 'engine', endpoint: 'logs', path: '/passthrough/engine/logs/{container}' },
    ],
  });
});

t.test("the active engine's passthrough endpoints are listed sorted and served; clashes are skipped", async (t) => {
  const { url } = await startGateway(t, { plugins: [goodPlugin], engine: 'good' });
  const discovery = (await http(url + '/passthrough')).json();
  t.same(discovery.engine, { name: 'good', state: 'running' });
  t.same(
    discovery.endpoints.map((e: { controller: string; endpoint: string }) => `${e.controller}/${e.endpoint}`),
    ['alpha/info', 'engine/containers', 'engine/logs', 'good/version'],
    'sorted by controller then endpoint; the clashing engine/logs is the built-in one',
  );
  t.same((await http(url + '/passthrough/good/version?echo=hi')).json(), { version: '1.2.3', echo: 'hi' });
  t.same((await http(url + '/passthrough/alpha/info')).json(), { alpha: true });
  // Switching back to mock withdraws them.
  await http(url + '/engine', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"mock"}',
  });
  t.equal((await http(url + '/passthrough/good/version')).status, 404);
});

t.test('two gateways in one process share nothing', async (t) => {
  const one = await startGateway(t);
  const two = await startGateway(t);
  t.not(one.gw.container, two.gw.container, 'separate awilix containers');
  t.not(one.gw.engines, two.gw.engines);
  const client = new LogClient(one.wsUrl + '/passthrough/engine/logs/mock-chatty?tail=0', ['v1.text.enginegate']);
  await client.opened;
  t.equal(one.gw.openStreams, 1);
  t.equal(two.gw.openStreams, 0);
  const metricsOne = (await http(one.url + '/metrics')).text;
  const metricsTwo = (await http(two.url + '/metrics')).text;
  t.match(metricsOne, /^enginegate_open_streams 1$/m);
  t.match(metricsTwo, /^enginegate_open_streams 0$/m, 'separate metric registries');
  t.match(metricsOne, /^enginegate_streams_total\{transport="websocket",framing="text"\} 1$/m);
  t.match(metricsOne, /^enginegate_engine_state\{engine="mock",state="running"\} 1$/m);
  await http(two.url + '/engine', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{"name":null}',
  });
  t.equal(one.gw.engines.state, 'running', 'stopping one engine leaves the other gateway alone');
  t.equal(client.ws.readyState, client.ws.OPEN);
  client.ws.close();
  await client.closed;
});

t.test('readyz follows the engine', async (t) => {
  const { url } = await startGateway(t);
  t.same((await http(url + '/readyz')).json(), { status: 'ready', engine: { name: 'mock', state: 'running' } });
  await http(url + '/engine', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{"name":null}',
  });
  const notReady = await http(url + '/readyz');
  t.equal(notReady.status, 503);
  t.ok(notReady.headers['retry-after']);
});
