// `ctr run --log-uri file://…`: a raw log (stdout and stderr merged, no times, byte cursors),
// followed live against a private containerd until the task exits.
import t from 'tap';
import { join } from 'node:path';
import { containerdForTest, uniqueId } from '@enginegate/test-harness/containerd';
import { ALL, FOLLOW, lines, readAll, startEngine } from './fixtures/engine-support.js';

// Real daemons on a loaded 2-core CI machine: more than tap's default 30 s per file.
t.setTimeout(120_000);

const cd = await containerdForTest(t);
if (cd) {
  const { engine, logger } = await startEngine(cd);
  t.teardown(() => engine.stop());

  t.test('lines arrive while the task runs, then the exit code ends the stream', async (t) => {
    const id = uniqueId('live');
    await cd.runTask({
      id,
      logUri: `file://${join(cd.logDir, `${id}.log`)}`,
      script: 'for i in 1 2 3 4; do echo line$i; sleep 0.3; done; echo oops >&2; exit 7',
    });
    const abort = new AbortController();
    const started = Date.now();
    const records = await readAll(await engine.logs.open({ ref: id }, FOLLOW, abort.signal), { abort });
    t.same(lines(records), ['line1', 'line2', 'line3', 'line4', 'oops']);
    const exit = records.at(-1)!;
    t.same({ type: exit.type, exitCode: (exit as { exitCode?: number }).exitCode }, { type: 'exit', exitCode: 7 });
    const first = records.find((r) => r.type === 'line')!;
    // The task runs ~1.2 s: the first line must arrive long before the end, not with it.
    t.ok(first.arrivedAt - started < exit.arrivedAt - started - 600, 'the first line arrived while the task still ran');
    t.ok(
      records.every((r) => r.type !== 'line' || (r.stream === 'stdout' && r.time === null)),
      'raw: stdout, no times',
    );
  });

  t.test('an exited task: the history, then its exit; tail and byte cursors', async (t) => {
    const id = uniqueId('done');
    await cd.runTask({
      id,
      logUri: `file://${join(cd.logDir, `${id}.log`)}`,
      script: 'echo a; echo b; echo c; exit 2',
    });
    await cd.waitForTaskStopped(id);
    const abort = new AbortController();
    const all = await readAll(await engine.logs.open({ ref: id }, FOLLOW, abort.signal), { abort });
    t.same(lines(all), ['a', 'b', 'c'], 'follow on a stopped task ends after the history');
    t.same(
      all.filter((r) => r.type === 'exit').map((r) => (r as { exitCode?: number }).exitCode),
      [2],
      'then its exit code, as Docker and mock send it for a container that had already exited',
    );
    t.equal(all.at(-1)?.type, 'exit', 'the exit comes last');

    const tail = await readAll(await engine.logs.open({ ref: id }, { ...ALL, tail: 2 }, abort.signal));
    t.same(lines(tail), ['b', 'c']);
    const none = await readAll(await engine.logs.open({ ref: id }, { ...ALL, tail: 0 }, abort.signal));
    t.same(lines(none), []);

    const cursor = (all[0] as { cursor: string }).cursor;
    t.match(cursor, /^b2@\d+:\d+$/, 'a byte cursor naming the file');
    const { decodeCursor } = await import('@enginegate/plugin-api');
    const resumed = await readAll(
      await engine.logs.open({ ref: id }, { ...ALL, after: decodeCursor(cursor) }, abort.signal),
    );
    t.same(lines(resumed), ['b', 'c'], 'after= resumes right behind the record');
    const stdoutOff = await readAll(await engine.logs.open({ ref: id }, { ...ALL, stdout: false }, abort.signal));
    t.same(lines(stdoutOff), [], 'a merged raw log is stdout: stdout=false leaves nothing');
  });

  t.test('what cannot be served is refused before any reading', async (t) => {
    const id = uniqueId('fifo');
    await cd.runTask({ id, script: 'echo hidden' });
    const signal = new AbortController().signal;
    await t.rejects(
      engine.logs.open({ ref: id }, ALL, signal),
      { code: 'LOGS_UNSUPPORTED', statusCode: 501 },
      'FIFOs: not persisted',
    );
    const raw = uniqueId('raw');
    await cd.runTask({ id: raw, logUri: `file://${join(cd.logDir, `${raw}.log`)}`, script: 'echo x' });
    await t.rejects(engine.logs.open({ ref: raw }, { ...ALL, since: 1n }, signal), {
      code: 'INVALID_ARGUMENT',
      parameter: 'since',
    });
    await t.rejects(engine.logs.open({ ref: 'no-such-task' }, ALL, signal), {
      code: 'CONTAINER_NOT_FOUND',
      statusCode: 404,
    });
    // Valid references that containerd would reject as identifiers, and unknown namespaces.
    for (const ref of ['a-', 'a..b', 'x'.repeat(200)]) {
      await t.rejects(
        engine.logs.open({ ref }, ALL, signal),
        { code: 'CONTAINER_NOT_FOUND' },
        `ref ${ref.slice(0, 12)}`,
      );
    }
    await t.rejects(engine.logs.open({ ref: raw, namespace: 'no-such-ns' }, ALL, signal), {
      code: 'CONTAINER_NOT_FOUND',
    });
    for (const namespace of ['a__b', 'a.-b']) {
      await t.rejects(
        engine.logs.open({ ref: raw, namespace }, ALL, signal),
        { code: 'INVALID_ARGUMENT', parameter: 'namespace' },
        `namespace ${namespace}`,
      );
    }
    await t.rejects(engine.logs.open({ ref: '../etc' }, ALL, signal), { code: 'INVALID_ARGUMENT', statusCode: 400 });
    await t.rejects(engine.logs.open({ ref: raw, namespace: 'bad/ns' }, ALL, signal), { code: 'INVALID_ARGUMENT' });
    t.equal(logger.at('warn').length, 0, 'client mistakes are not warnings');
  });

  t.test('containers() lists tasks with their state and labels', async (t) => {
    const id = uniqueId('labelled');
    await cd.runTask({ id, script: 'exit 0', labels: { 'com.docker.compose.project': 'egc', tier: 'web' } });
    t.teardown(() => cd.ctr(['-n', cd.namespace, 'task', 'rm', '-f', id]).catch(() => undefined));
    const list = await engine.containers();
    const mine = list.filter((c) => c.namespace === cd.namespace);
    t.match(
      mine.find((c) => c.id === id)?.labels,
      { 'com.docker.compose.project': 'egc', tier: 'web' },
      'the container labels of ctr run --label',
    );
    t.ok(mine.length >= 4);
    t.ok(mine.every((c) => typeof c.createdAt === 'string' && c.createdAt.endsWith('Z')));
    t.ok(mine.some((c) => c.state === 'exited'));
  });
}
