// DeferredEngine: the engine's code is loaded at the first start, and not before; until then
// it answers as a stopped engine, and a failed load can be tried again.
import t from 'tap';
import { DeferredEngine, type Engine } from '@enginegate/plugin-api';

function fakeEngine(calls: string[]): Engine {
  return {
    name: 'fake',
    start: async () => void calls.push('start'),
    stop: async () => void calls.push('stop'),
    health: async () => ({ ok: true }),
    containers: async () => [],
    logs: { open: async () => (async function* () {})() },
    events: async () => (async function* () {})(),
    passthroughs: () => [{ controller: 'fake', endpoint: 'info', handler: async () => ({}) }],
  };
}

t.test('nothing is loaded until start(); then every call goes to the loaded engine', async (t) => {
  const calls: string[] = [];
  let loads = 0;
  const engine = new DeferredEngine(
    'fake',
    async () => {
      loads++;
      return fakeEngine(calls);
    },
    true,
  );
  t.equal(loads, 0, 'not loaded when made');
  t.same(await engine.health(), { ok: false, message: 'the fake engine is not started' });
  await t.rejects(engine.containers(), { code: 'ENGINE_UNAVAILABLE' });
  await t.rejects(
    engine.logs.open({ ref: 'x' }, { follow: false, stdout: true, stderr: true }, AbortSignal.timeout(1000)),
    {
      code: 'ENGINE_UNAVAILABLE',
    },
  );
  await t.rejects(engine.events!(AbortSignal.timeout(1000)), { code: 'ENGINE_UNAVAILABLE' });
  t.same(engine.passthroughs(), []);
  t.equal(loads, 0, 'still not loaded');

  await engine.start();
  await engine.start();
  t.equal(loads, 1, 'loaded once');
  t.same(calls, ['start', 'start']);
  t.same(await engine.health(), { ok: true });
  t.same(await engine.containers(), []);
  t.same(
    engine.passthroughs().map((p) => p.endpoint),
    ['info'],
  );
  t.ok(engine.loadedEngine);
  await engine.stop();
  t.same(calls.at(-1), 'stop');
});

t.test('a stop() while the code loads stops the engine that start() then starts', async (t) => {
  const calls: string[] = [];
  let loaded!: () => void;
  const engine = new DeferredEngine(
    'fake',
    () => new Promise<Engine>((resolve) => (loaded = () => resolve(fakeEngine(calls)))),
    false,
  );
  const starting = engine.start();
  const stopping = engine.stop();
  loaded();
  await Promise.all([starting, stopping]);
  t.same(calls, ['start', 'stop'], 'started, then stopped: not left running');
});

t.test('a failed load rejects start() and is tried again at the next', async (t) => {
  let attempt = 0;
  const engine = new DeferredEngine(
    'fake',
    async () => {
      if (++attempt === 1) throw new Error('cannot import');
      return fakeEngine([]);
    },
    false,
  );
  t.equal(engine.events, undefined, 'no events() when the engine has none');
  await t.rejects(engine.start(), /cannot import/);
  await engine.start();
  t.equal(attempt, 2);
  await engine.stop();
});
