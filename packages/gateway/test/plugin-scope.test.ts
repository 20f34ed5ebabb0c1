// Each plugin's awilix scope: the gateway's services (settings, logger, clock, metrics,
// reportHealth) are resolved from it, the engine is resolved from it, and a program or test
// replaces a service through `pluginServices` without touching plugin code.
import t from 'tap';
import { asValue } from 'awilix';
import mockPlugin from '@enginegate/plugin-mock';
import {
  ContainerNotFoundError,
  NS_PER_MS,
  PLUGIN_API_VERSION,
  definePlugin,
  fromScope,
  registerEngine,
  systemClock,
  type Engine,
  type PluginServices,
} from '@enginegate/plugin-api';
import { startGateway } from './fixtures/harness.js';

const ONE_DAY_MS = 24 * 3600 * 1000;

type GreeterServices = PluginServices & { greet: (name: string) => string };
type GreeterEngine = Engine & { services: GreeterServices };

/** A plugin whose engine uses every service of its scope and one service of its own (`greet`). */
const greeterPlugin = definePlugin({
  name: 'greeter',
  apiVersion: PLUGIN_API_VERSION,
  settings: { type: 'object', properties: { greeting: { type: 'string', default: 'hello' } } },
  register(container) {
    container.register(
      'greet',
      fromScope(
        ({ settings }: PluginServices) =>
          (name: string) =>
            `${String(settings['greeting'])} ${name}`,
      ),
    );
    registerEngine<GreeterServices>(container, (services): GreeterEngine => {
      const listings = services.metrics.counter('listings_total', 'containers() calls', ['kind']);
      return {
        name: 'greeter',
        services,
        logs: { open: (ref) => Promise.reject(new ContainerNotFoundError(ref.ref)) },
        start: async () => services.logger.info('greeter started'),
        stop: async () => {},
        health: async () => ({ ok: true }),
        containers: async () => {
          listings.inc({ kind: 'all' });
          const createdAt = new Date(Number(services.clock() / NS_PER_MS)).toISOString();
          return [
            {
              id: 'g1',
              names: [services.greet(services.pluginName)],
              image: 'greeter',
              state: 'running',
              tty: false,
              createdAt,
              labels: {},
            },
          ];
        },
      };
    });
  },
});

t.test("the engine is resolved from the plugin's scope, built from the gateway's services", async (t) => {
  const { gw, client } = await startGateway(t, { builtinPlugins: [], plugins: [greeterPlugin], engine: 'greeter' });
  const engine = gw.engines.engineNamed('greeter') as GreeterEngine;
  t.equal(engine.services.pluginName, 'greeter');
  t.same(engine.services.settings, { greeting: 'hello' }, 'settings, validated, with their defaults');
  t.equal(engine.services.clock, systemClock, 'the system clock by default');
  const before = Date.now();
  const listed = (await client.get('/passthrough/engine/containers')).json as Array<{
    names: string[];
    createdAt: string;
  }>;
  t.same(listed[0]!.names, ['hello greeter'], "the plugin's own service, from its settings");
  t.ok(Date.parse(listed[0]!.createdAt) >= before - 1 && Date.parse(listed[0]!.createdAt) <= Date.now());
  const metrics = (await client.get('/metrics')).text;
  t.match(
    metrics,
    /^enginegate_plugin_greeter_listings_total\{kind="all"\} 1$/m,
    "its metric is on the gateway's /metrics",
  );

  engine.services.reportHealth({ ok: false, message: 'the greeter lost its voice' });
  t.equal(gw.engines.state, 'unavailable', "the scope's reportHealth reaches the engine manager at once");
});

t.test(
  "pluginServices replace the gateway's services and the plugin's own, without touching plugin code",
  async (t) => {
    const dayAgo = () => systemClock() - BigInt(ONE_DAY_MS) * NS_PER_MS;
    const { client } = await startGateway(t, {
      builtinPlugins: [],
      plugins: [greeterPlugin],
      engine: 'greeter',
      pluginServices: { greeter: { clock: asValue(dayAgo), greet: asValue((name: string) => `bye ${name}`) } },
    });
    const before = Date.now();
    const listed = (await client.get('/passthrough/engine/containers')).json as Array<{
      names: string[];
      createdAt: string;
    }>;
    t.same(listed[0]!.names, ['bye greeter'], "the plugin's own greet, replaced after its register");
    const createdAt = Date.parse(listed[0]!.createdAt);
    t.ok(createdAt >= before - ONE_DAY_MS - 1 && createdAt <= Date.now() - ONE_DAY_MS, 'the clock, replaced');
  },
);

t.test("the mock engine takes its clock from its scope: a test's clock shifts every line's time", async (t) => {
  const dayAgo = () => systemClock() - BigInt(ONE_DAY_MS) * NS_PER_MS;
  const before = Date.now();
  const { client } = await startGateway(t, { pluginServices: { mock: { clock: asValue(dayAgo) } } });
  const listed = (await client.get('/passthrough/engine/containers')).json as Array<{
    names: string[];
    createdAt: string;
  }>;
  const chatty = listed.find((c) => c.names.includes('mock-chatty'))!;
  const createdAt = Date.parse(chatty.createdAt);
  t.ok(
    createdAt >= before - ONE_DAY_MS - 1000 && createdAt <= Date.now() - ONE_DAY_MS,
    `created a day ago (${chatty.createdAt})`,
  );
  const res = await client.readHttp('mock-chatty', { follow: false, tail: 1, timestamps: true });
  const stamp = Date.parse(res.body.toString().split(' ')[0]!);
  t.ok(
    stamp <= Date.now() - ONE_DAY_MS && stamp >= before - ONE_DAY_MS - 60_000,
    `its last line is stamped a day ago too`,
  );
});

t.test('a plugin that returns no engine and registers none is refused by name', async (t) => {
  const silent = definePlugin({ name: 'silent', apiVersion: PLUGIN_API_VERSION, register() {} });
  const { gw } = await startGateway(t, { builtinPlugins: [mockPlugin], plugins: [silent] });
  t.match(
    gw.pluginErrors.map((e) => e.message),
    [
      /^plugin \(object\) silent \(name "silent"\) failed in register: it returned no engine and registered none as "engine" in its scope$/,
    ],
  );
  t.same(gw.engines.available(), ['mock']);
});
