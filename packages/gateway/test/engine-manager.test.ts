// EngineManager on its own: auto's order and fallback, serialised switches, snapshots that are
// never of a half-switched engine, reportHealth.
import t, { type Test } from 'tap';
import { createContainer } from 'awilix';
import {
  EngineUnavailableError,
  PLUGIN_API_VERSION,
  type Engine,
  type EngineHealth,
  type PluginOptions,
} from '@enginegate/plugin-api';
import mockPlugin from '@enginegate/plugin-mock';
import { EngineManager, type EngineChange } from '@enginegate/gateway';

interface FakeControl {
  reachable: boolean;
  startDelayMs: number;
  calls: string[];
  reportHealth?: (health: EngineHealth) => void;
}

function fakePlugin(name: string, control: FakeControl) {
  return {
    name,
    apiVersion: PLUGIN_API_VERSION,
    register(_container: unknown, options: PluginOptions): Engine {
      control.reportHealth = options.reportHealth;
      return {
        name,
        async start() {
          control.calls.push(`${name}.start`);
          await new Promise((resolve) => setTimeout(resolve, control.startDelayMs));
          if (!control.reachable) throw new EngineUnavailableError(`${name} socket not found`);
        },
        async stop() {
          control.calls.push(`${name}.stop`);
        },
        health: async () => (control.reachable ? { ok: true } : { ok: false, message: `${name} is down` }),
        containers: async () => [],
        logs: { open: async () => (async function* () {})() },
      };
    },
  };
}

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

async function manager(t: Test, plugins: Array<{ name: string; plugin: any }>) {
  const engines = new EngineManager({
    container: createContainer(),
    logger: silent,
    pluginConfig: {},
    healthIntervalMs: 50,
    autoProbeTimeoutMs: 500,
  });
  for (const { name, plugin } of plugins) await engines.addPlugin(name, plugin);
  t.teardown(() => engines.close());
  const changes: EngineChange[] = [];
  engines.on('change', (c: EngineChange) => changes.push(c));
  return { engines, changes };
}

t.test('auto picks moby first, then containerd, then mock', async (t) => {
  const moby: FakeControl = { reachable: true, startDelayMs: 1, calls: [] };
  const containerd: FakeControl = { reachable: true, startDelayMs: 1, calls: [] };
  const { engines } = await manager(t, [
    { name: 'mock', plugin: mockPlugin },
    { name: 'containerd', plugin: fakePlugin('containerd', containerd) },
    { name: 'moby', plugin: fakePlugin('moby', moby) },
  ]);
  t.same(engines.available(), ['containerd', 'moby', 'mock'], 'sorted');
  t.same(await engines.use('auto'), { name: 'moby', state: 'running' });
  t.same(containerd.calls, [], 'containerd was not tried');

  moby.reachable = false;
  t.same(await engines.use(null), { name: null, state: 'stopped' });
  t.same(await engines.use('auto'), { name: 'containerd', state: 'running' }, 'moby down: containerd');

  containerd.reachable = false;
  await engines.use(null);
  t.same(await engines.use('auto'), { name: 'mock', state: 'running' }, 'both down: mock');
  t.ok(moby.calls.includes('moby.stop'), 'a candidate that failed is stopped again');
});

t.test('concurrent switches run one after another; the last wins; snapshots never see a half switch', async (t) => {
  const slow: FakeControl = { reachable: true, startDelayMs: 100, calls: [] };
  const { engines, changes } = await manager(t, [
    { name: 'mock', plugin: mockPlugin },
    { name: 'slow', plugin: fakePlugin('slow', slow) },
  ]);
  await engines.use('mock');
  changes.length = 0;
  const seen: string[] = [];
  const probe = setInterval(() => {
    try {
      const s = engines.snapshot();
      seen.push(`${s.name}@${engines.state}`);
    } catch (err) {
      seen.push((err as Error).constructor.name);
    }
  }, 5);
  t.teardown(() => clearInterval(probe));
  const results = await Promise.all([engines.use('slow'), engines.use('mock'), engines.use('slow')]);
  clearInterval(probe);
  t.same(results[2], { name: 'slow', state: 'running' });
  t.same(engines.status, { name: 'slow', state: 'running' });
  t.ok(
    seen.every((s) => s === 'EngineUnavailableError' || s.endsWith('@running')),
    'a snapshot is of a running engine or a 503',
  );
  const generations = changes.map((c) => c.generation);
  t.same(
    generations,
    [...generations].sort((a, b) => a - b),
    'generations only grow',
  );
  t.same(
    changes.filter((c) => c.state === 'starting').map((c) => c.reason),
    ['engine switched to slow', 'engine switched to mock', 'engine switched to slow'],
    'one switch after another, in call order',
  );
});

t.test('reportHealth reacts at once: lost, then recovered', async (t) => {
  const daemon: FakeControl = { reachable: true, startDelayMs: 1, calls: [] };
  const { engines, changes } = await manager(t, [{ name: 'd', plugin: fakePlugin('d', daemon) }]);
  await engines.use('d');
  const generation = engines.generation;
  daemon.reachable = false;
  daemon.reportHealth!({ ok: false, message: 'event stream closed' });
  t.equal(engines.state, 'unavailable', 'at once, not at the next poll');
  t.ok(engines.generation > generation, 'a new generation: old streams close');
  t.equal(changes[changes.length - 1]!.reason, 'engine lost: event stream closed');
  t.throws(() => engines.snapshot(), EngineUnavailableError);
  daemon.reachable = true;
  daemon.reportHealth!({ ok: true });
  for (let i = 0; i < 100 && engines.state !== 'running'; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(engines.state, 'running', 'back');
});

t.test('a plugin whose register returns no engine is rejected naming it', async (t) => {
  const engines = new EngineManager({
    container: createContainer(),
    logger: silent,
    pluginConfig: {},
    healthIntervalMs: 50,
  });
  t.teardown(() => engines.close());
  await t.rejects(
    engines.addPlugin('./empty.js', { name: 'empty', apiVersion: 1, register: () => ({}) as Engine }),
    /plugin \.\/empty\.js \(name "empty"\) returned no usable engine from register: it has no start\(\) method/,
  );
  await engines.addPlugin('mock', mockPlugin);
  await t.rejects(engines.addPlugin('again', mockPlugin), /an engine named "mock" is loaded already/);
});
