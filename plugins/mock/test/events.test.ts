// The mock engine's container events and its Compose project 'demo'.
import t from 'tap';
import type { ContainerEvent } from '@enginegate/plugin-api';
import {
  DEMO_MIGRATE_EXIT_CODE,
  DEMO_PROJECT,
  DEMO_WORKER_START_MS,
  MOCK_CONTAINERS,
  MockEngine,
} from '@enginegate/plugin-mock';

async function collect(
  events: AsyncIterable<ContainerEvent[]>,
  until: (seen: ContainerEvent[]) => boolean,
  timeoutMs = 15_000,
): Promise<ContainerEvent[]> {
  const seen: ContainerEvent[] = [];
  const timer = setTimeout(() => {
    throw new Error(`no end after ${timeoutMs} ms: ${seen.map((e) => e.action).join(',')}`);
  }, timeoutMs);
  try {
    for await (const batch of events) {
      seen.push(...batch);
      if (until(seen)) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return seen;
}

const named = (name: string) => (e: ContainerEvent) => e.container.names[0] === name;

t.test('the demo project: four compose containers, one exiting, one starting later', async (t) => {
  const engine = new MockEngine();
  await engine.start();
  t.teardown(() => engine.stop());
  const events = await engine.events(new AbortController().signal);
  const started = Date.now();
  const listed = await engine.containers();
  const demo = listed.filter((c) => c.labels['com.docker.compose.project'] === DEMO_PROJECT);
  t.same(
    demo.map((c) => c.names[0]).sort(),
    ['demo-db-1', 'demo-migrate-1', 'demo-web-1'],
    'the worker is not there yet',
  );
  t.same(demo.map((c) => c.labels['com.docker.compose.service']).sort(), ['db', 'migrate', 'web']);
  t.ok(
    listed.some((c) => c.id === MOCK_CONTAINERS['mock-chatty']),
    'the built-ins are there too',
  );
  const seen = await collect(events, (s) => s.some((e) => named('demo-worker-1')(e) && e.action === 'start'));
  const elapsed = Date.now() - started;
  t.ok(elapsed >= DEMO_WORKER_START_MS - 100, `the worker started after ~${DEMO_WORKER_START_MS} ms (${elapsed})`);
  const migrateDie = seen.find((e) => named('demo-migrate-1')(e) && e.action === 'die');
  t.match(migrateDie, { exitCode: DEMO_MIGRATE_EXIT_CODE, container: { state: 'exited' } }, 'migrate exits');
  t.same(
    seen.filter(named('demo-worker-1')).map((e) => e.action),
    ['create', 'start'],
  );
  const worker = (await engine.containers()).find((c) => c.names[0] === 'demo-worker-1');
  t.match(worker, { state: 'running', labels: { 'com.docker.compose.service': 'worker' } });
});

t.test('events: create and start on add, die at the exit time, destroy on remove; stop ends them', async (t) => {
  const engine = new MockEngine({ builtinContainers: false });
  await engine.start();
  t.same(await engine.containers(), [], 'no demo project without the built-ins');
  const abort = new AbortController();
  const events = await engine.events(abort.signal);
  const lineAt = () => ({ stream: 'stdout' as const, bytes: Buffer.from('x') });
  const info = engine.addContainer({ name: 'short', lineCount: 3, intervalMs: 100, exitCode: 9, lineAt });
  const seen = await collect(events, (s) => s.some((e) => e.action === 'die'));
  t.same(
    seen.map((e) => [e.action, e.container.state]),
    [
      ['create', 'created'],
      ['start', 'running'],
      ['die', 'exited'],
    ],
  );
  t.equal(seen[2]!.exitCode, 9);
  t.ok(seen.every((e) => e.container.id === info.id && typeof e.time === 'bigint'));
  t.ok(seen[2]!.time > seen[1]!.time, 'die is stamped at the exit time');

  const more = await engine.events(new AbortController().signal);
  engine.removeContainer('short');
  const iterator = more[Symbol.asyncIterator]();
  const removed = await iterator.next();
  t.same(
    removed.value.map((e: ContainerEvent) => [e.action, e.container.state]),
    [['destroy', 'removed']],
  );
  const ended = iterator.next();
  await engine.stop();
  await t.rejects(ended, { code: 'ENGINE_UNAVAILABLE' }, 'stop ends the subscriptions');
  await t.rejects(engine.events(abort.signal), { code: 'ENGINE_UNAVAILABLE' }, 'no events while stopped');
});
