// containerd killed and restarted under a follower: the engine reports itself lost and back,
// requests in between are 503, and a follower whose task exited while the daemon was away
// still ends with the exit code (its task is re-checked after resubscribing).
import t from 'tap';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerdForTest, uniqueId } from '@enginegate/test-harness/containerd';
import { ALL, FOLLOW, lines, readAll, startEngine } from './fixtures/engine-support.js';

// Real daemons on a loaded 2-core CI machine: more than tap's default 30 s per file.
t.setTimeout(120_000);

const cd = await containerdForTest(t);
if (cd) {
  const { engine, health, logger } = await startEngine(cd);
  t.teardown(() => engine.stop());

  t.test('lost, 503, back; the exit that happened while the daemon was down still ends the follow', async (t) => {
    const id = uniqueId('survivor');
    await cd.runTask({
      id,
      logUri: `file://${join(cd.logDir, `${id}.log`)}`,
      script: 'i=0; while [ $i -lt 10 ]; do echo n$i; i=$((i+1)); sleep 0.1; done; exit 4',
    });
    const abort = new AbortController();
    const following = readAll(await engine.logs.open({ ref: id }, FOLLOW, abort.signal), { abort, timeoutMs: 20_000 });
    await sleep(300);

    await cd.kill();
    const lostBy = Date.now() + 5000;
    while (!health.some((h) => !h.ok) && Date.now() < lostBy) await sleep(20);
    t.match(
      health.find((h) => !h.ok),
      { ok: false, message: /containerd event stream lost/ },
      'reported lost at once',
    );
    t.match(await engine.health(), { ok: false });
    await t.rejects(engine.logs.open({ ref: id }, ALL, new AbortController().signal), {
      code: 'ENGINE_UNAVAILABLE',
      statusCode: 503,
    });
    t.ok(
      logger.at('warn').some((e) => /event stream lost/.test(String(e.msg))),
      'the loss is logged at warn',
    );

    await sleep(1500); // the task exits (after ~1 s) while the daemon is down
    await cd.start();
    const backBy = Date.now() + 10_000;
    while (!health.at(-1)?.ok && Date.now() < backBy) await sleep(20);
    t.same(health.at(-1), { ok: true }, 'reported back after resubscribing');
    t.same(await engine.health(), { ok: true });

    const records = await following;
    t.same(
      lines(records),
      Array.from({ length: 10 }, (_, i) => `n${i}`),
      'no line lost across the restart',
    );
    t.same(records.at(-1)?.type, 'exit');
    t.same((records.at(-1) as { exitCode?: number }).exitCode, 4);

    const again = await readAll(await engine.logs.open({ ref: id }, { ...ALL, tail: 2 }, new AbortController().signal));
    t.same(lines(again), ['n8', 'n9'], 'served again');
    t.same(engine.resources, { openStreams: 0, subscriptions: 1, taskWatches: 0, eventStreams: 0 });
  });
}
