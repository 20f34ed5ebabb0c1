// 1,000 follows opened and abandoned leave nothing behind: no file descriptor, no task watch,
// no extra event subscription (one Subscribe stream is shared by every follower).
import t from 'tap';
import { join } from 'node:path';
import { containerdForTest, uniqueId, waitForFile } from '@enginegate/test-harness/containerd';
import { FOLLOW, openFdCount, startEngine } from './fixtures/engine-support.js';

// Real daemons on a loaded 2-core CI machine: more than tap's default 30 s per file.
t.setTimeout(120_000);

const cd = await containerdForTest(t);
if (cd) {
  const { engine } = await startEngine(cd);
  t.teardown(() => engine.stop());

  t.test('1,000 open/close cycles', async (t) => {
    const id = uniqueId('busy');
    const log = join(cd.logDir, `${id}.log`);
    await cd.runTask({ id, logUri: `file://${log}`, script: 'echo ready; while :; do sleep 1; echo tick; done' });
    await waitForFile(log, 6);

    async function cycle(how: 'abort' | 'return'): Promise<void> {
      const abort = new AbortController();
      const iterable = await engine.logs.open({ ref: id }, FOLLOW, abort.signal);
      const iterator = iterable[Symbol.asyncIterator]();
      const first = await iterator.next();
      if (first.done || first.value[0]?.type !== 'line') throw new Error('expected a first line');
      if (how === 'abort') abort.abort();
      else await iterator.return?.();
    }
    await cycle('abort'); // warm-up: proto loading, the channel's own descriptors
    const before = await openFdCount();
    const started = Date.now();
    for (let i = 0; i < 1000; i++) await cycle(i % 2 === 0 ? 'abort' : 'return');
    const perCycleMs = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 200)); // closes issued by abort() settle
    t.equal(await openFdCount(), before, 'no descriptor left open');
    t.same(
      engine.resources,
      { openStreams: 0, subscriptions: 1, taskWatches: 0, eventStreams: 0 },
      'no stream, watch or subscription left',
    );
    t.comment(`open → first line → close: ${perCycleMs.toFixed(2)} ms per cycle`);
  });

  t.test('a source opened for a caller that already gave up is not counted', async (t) => {
    const id = uniqueId('late');
    const log = join(cd.logDir, `${id}.log`);
    await cd.runTask({ id, logUri: `file://${log}`, script: 'echo ready; sleep 30' });
    await waitForFile(log, 6);
    for (const options of [FOLLOW, { ...FOLLOW, follow: false }]) {
      const abort = new AbortController();
      abort.abort();
      // Never iterated, as when the gateway stopped waiting for it (the engine was lost meanwhile).
      await engine.logs.open({ ref: id }, options, abort.signal);
    }
    t.same(engine.resources, { openStreams: 0, subscriptions: 1, taskWatches: 0, eventStreams: 0 });
  });
}
