// Every way a reader can end releases it exactly once: abort (also mid-wait), return(),
// an already-aborted signal, the end of the logs.
import t from 'tap';
import { getEventListeners, setMaxListeners } from 'node:events';
import { MockEngine } from '@enginegate/plugin-mock';
import { logOptions, numberedLine, readAll } from './fixtures/log-reading.js';

async function setUp(t: { teardown(fn: () => unknown): void }) {
  const engine = new MockEngine({ builtinContainers: false });
  await engine.start();
  t.teardown(() => engine.stop());
  // A line a minute: a follower spends its life asleep on a timer.
  engine.addContainer({ name: 'slow', lineCount: Infinity, intervalMs: 60_000, historyLines: 5, lineAt: numberedLine });
  return engine;
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

t.test('1,000 open/abort cycles leave no reader, timer or listener behind', async (t) => {
  const engine = await setUp(t);
  const timersBefore = timers();
  for (let i = 0; i < 1000; i++) {
    const abort = new AbortController();
    const iterator = (await engine.logs.open({ ref: 'slow' }, logOptions({ follow: true }), abort.signal))[
      Symbol.asyncIterator
    ]();
    t.equal(engine.activeReaders, 1);
    if (i % 3 === 1) {
      await iterator.next(); // the history
      const sleeping = iterator.next(); // asleep until the next line, a minute away
      abort.abort();
      const result = await sleeping;
      if (!result.done) t.fail(`cycle ${i}: a reader aborted mid-wait yielded ${JSON.stringify(result.value)}`);
    } else if (i % 3 === 2) {
      await iterator.next();
      abort.abort();
    } else {
      abort.abort(); // before the first pull
    }
    if ((await iterator.next()).done !== true) t.fail(`cycle ${i}: not ended after abort`);
    if (getEventListeners(abort.signal, 'abort').length !== 0) t.fail(`cycle ${i}: abort listener left`);
  }
  t.equal(engine.activeReaders, 0);
  t.equal(timers(), timersBefore, 'no timer left armed');
});

t.test('an abort during the wait for the next line ends the pull at once', async (t) => {
  const engine = await setUp(t);
  const abort = new AbortController();
  const iterator = (await engine.logs.open({ ref: 'slow' }, logOptions({ follow: true, tail: 0 }), abort.signal))[
    Symbol.asyncIterator
  ]();
  const sleeping = iterator.next();
  setTimeout(() => abort.abort(), 20);
  const started = Date.now();
  t.same(await sleeping, { done: true, value: undefined });
  // The next line is 60 s away: ending within seconds is the abort's doing, even on a loaded machine.
  t.ok(Date.now() - started < 5000, `ended ${Date.now() - started} ms after the wait began`);
  t.equal(engine.activeReaders, 0);
});

t.test('return() releases, also while a pull is pending, and only once', async (t) => {
  const engine = await setUp(t);
  // One long-lived signal shared by many readers, as a gateway might hold: no listener may pile up on it.
  const shared = new AbortController().signal;
  for (let i = 0; i < 200; i++) {
    const source = await engine.logs.open({ ref: 'slow' }, logOptions({ follow: true }), shared);
    for await (const batch of source) {
      if (batch.length > 0) break; // break calls return()
    }
  }
  t.equal(engine.activeReaders, 0, 'for await … break');
  t.equal(getEventListeners(shared, 'abort').length, 0, 'no listener left on a shared signal');

  const iterator = (await engine.logs.open({ ref: 'slow' }, logOptions({ follow: true, tail: 0 }), shared))[
    Symbol.asyncIterator
  ]();
  const pending = iterator.next();
  t.equal(engine.activeReaders, 1);
  t.same(await iterator.return!(), { done: true, value: undefined });
  t.same(await pending, { done: true, value: undefined }, 'the pending pull ends');
  await iterator.return!();
  t.equal(engine.activeReaders, 0, 'a second return() does not count twice');
});

t.test('a signal aborted before open gives an ended stream and no reader', async (t) => {
  const engine = await setUp(t);
  const source = await engine.logs.open({ ref: 'slow' }, logOptions({ follow: true }), AbortSignal.abort());
  t.equal(engine.activeReaders, 0);
  t.same((await readAll(source)).records, []);
});

t.test('readers that reach the end release themselves', async (t) => {
  const engine = await setUp(t);
  const signal = new AbortController().signal;
  setMaxListeners(100, signal); // 50 readers share it at once
  await Promise.all(
    Array.from({ length: 50 }, async () => readAll(await engine.logs.open({ ref: 'slow' }, logOptions(), signal))),
  );
  t.equal(engine.activeReaders, 0);
  t.equal(getEventListeners(signal, 'abort').length, 0);
});

t.test('a lineAt that throws becomes an error record and ends the stream', async (t) => {
  const engine = await setUp(t);
  engine.addContainer({
    name: 'broken',
    lineCount: 10,
    intervalMs: 0,
    lineAt: (i) => {
      if (i === 3) throw new Error('disk on fire');
      return numberedLine(i);
    },
  });
  const { records } = await readAll(
    await engine.logs.open({ ref: 'broken' }, logOptions({ follow: true }), new AbortController().signal),
  );
  t.same(
    records,
    [{ type: 'error', code: 'INTERNAL', message: 'disk on fire' }],
    'the lines of the failed batch are not half-sent',
  );
  t.equal(engine.activeReaders, 0);
});
