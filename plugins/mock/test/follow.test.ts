// follow on the real clock: lines arrive as their time comes, exits are reported, and
// removal / stop / until end followers.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineUnavailableError, nowNanos, type LogRecord } from '@enginegate/plugin-api';
import { MOCK_EXIT_CODE, MockEngine, systemClock, type MockEngineOptions } from '@enginegate/plugin-mock';
import { lineRecords, lineTexts, logOptions, numbered, numberedLine, readAll } from './fixtures/log-reading.js';

async function startedEngine(
  t: { teardown(fn: () => unknown): void },
  options: MockEngineOptions = { builtinContainers: false },
) {
  const engine = new MockEngine(options);
  await engine.start();
  t.teardown(() => engine.stop());
  return engine;
}

/** The promise's value, or 'pending' when it has not settled within `ms`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, sleep(ms).then(() => 'pending' as const)]);
}

t.test('lines arrive as they are written: the first long before the last is due', async (t) => {
  const engine = await startedEngine(t);
  engine.addContainer({ name: 'live', lineCount: 10, intervalMs: 80, lineAt: numberedLine, exitCode: 0 });
  const source = await engine.logs.open({ ref: 'live' }, logOptions({ follow: true }), new AbortController().signal);
  const arrivals: { time: bigint; arrived: bigint; text: string }[] = [];
  const records: LogRecord[] = [];
  for await (const batch of source) {
    const arrived = systemClock();
    for (const record of batch) {
      records.push(record);
      if (record.type === 'line') arrivals.push({ time: record.time!, arrived, text: record.line.toString() });
    }
  }
  t.same(
    arrivals.map((a) => a.text),
    numbered(0, 10),
  );
  t.ok(arrivals[0]!.arrived < arrivals[9]!.time, 'the first line came before the last line was due');
  t.ok(
    arrivals.every((a) => a.arrived >= a.time),
    'no line came before its time',
  );
  const lateMs = arrivals.map((a) => Number(a.arrived - a.time) / 1e6);
  // Lines 80 ms apart: a line held back for the next ones would be late by several intervals;
  // a second is room for a loaded machine's stalls, not for batching.
  t.ok(Math.max(...lateMs) < 1000, `each line within 1 s of its time (worst ${Math.max(...lateMs).toFixed(1)} ms)`);
  t.same(records.at(-1), { type: 'exit', exitCode: 0 }, 'then the exit, then the end');
  t.equal(engine.activeReaders, 0);
});

t.test('mock-exit followed: 20 lines, then exit 3', async (t) => {
  const engine = await startedEngine(t, {});
  const source = await engine.logs.open(
    { ref: 'mock-exit' },
    logOptions({ follow: true }),
    new AbortController().signal,
  );
  const { records } = await readAll(source);
  const lines = lineRecords(records);
  t.equal(lines.length, 20);
  t.same(lines.map((r) => r.line.toString()).slice(0, 2), ['exit line 1 of 20', 'exit line 2 of 20']);
  t.equal(lines[19]!.stream, 'stderr');
  t.same(records.slice(20), [{ type: 'exit', exitCode: MOCK_EXIT_CODE }]);
  t.equal(MOCK_EXIT_CODE, 3);
  const info = (await engine.containers()).find((c) => c.names.includes('mock-exit'))!;
  t.equal(info.state, 'exited');

  const again = await readAll(await engine.logs.open({ ref: 'mock-exit' }, logOptions(), new AbortController().signal));
  t.equal(again.records.length, 20, 'follow=false on the exited container: its lines, no exit record');
  t.notOk(again.records.some((r) => r.type === 'exit'));
});

t.test('follow with tail=0 gets only lines written after it opened', async (t) => {
  const engine = await startedEngine(t);
  engine.addContainer({ name: 'ticker', lineCount: Infinity, intervalMs: 20, historyLines: 100, lineAt: numberedLine });
  const opened = systemClock();
  const source = await engine.logs.open(
    { ref: 'ticker' },
    logOptions({ follow: true, tail: 0 }),
    new AbortController().signal,
  );
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  const line = lineRecords(first.value)[0]!;
  t.ok(line.time! > opened, 'a new line');
  t.ok(Number(line.line.toString().split(' ')[1]) >= 100, `not history: ${line.line.toString()}`);
  await iterator.return!();
  t.equal(engine.activeReaders, 0);
});

t.test('follow with an until in the future ends by itself once until has passed', async (t) => {
  const engine = await startedEngine(t);
  engine.addContainer({ name: 'ticker', lineCount: Infinity, intervalMs: 25, historyLines: 4, lineAt: numberedLine });
  const until = nowNanos() + 200_000_000n;
  const started = Date.now();
  const { records } = await readAll(
    await engine.logs.open({ ref: 'ticker' }, logOptions({ follow: true, until }), new AbortController().signal),
  );
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 150 && elapsed < 1000, `ended after ${elapsed} ms`);
  const lines = lineRecords(records);
  t.ok(lines.length >= 8, `${lines.length} lines`);
  t.ok(
    lines.every((r) => r.time! <= until),
    'none after until',
  );
  t.notOk(records.some((r) => r.type === 'exit'));
});

t.test('a silent running container keeps a follower waiting, without timers, until it is released', async (t) => {
  const engine = await startedEngine(t);
  engine.addContainer({ name: 'silent', lineCount: 3, intervalMs: 0, lineAt: numberedLine });
  const abort = new AbortController();
  const iterator = (await engine.logs.open({ ref: 'silent' }, logOptions({ follow: true }), abort.signal))[
    Symbol.asyncIterator
  ]();
  t.same(lineTexts((await iterator.next()).value), numbered(0, 3));
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const waiting = iterator.next();
  t.equal(await settledWithin(waiting, 100), 'pending', 'still following');
  t.equal(
    process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length,
    timersBefore,
    'no timer armed for a container that writes nothing',
  );
  abort.abort();
  t.same(await waiting, { done: true, value: undefined });
  t.equal(engine.activeReaders, 0);
});

t.test('removing a container ends its followers cleanly; others go on', async (t) => {
  const engine = await startedEngine(t);
  engine.addContainer({ name: 'doomed', lineCount: Infinity, intervalMs: 1000, historyLines: 2, lineAt: numberedLine });
  engine.addContainer({
    name: 'survivor',
    lineCount: Infinity,
    intervalMs: 1000,
    historyLines: 2,
    lineAt: numberedLine,
  });
  const signal = new AbortController().signal;
  const doomed = (await engine.logs.open({ ref: 'doomed' }, logOptions({ follow: true }), signal))[
    Symbol.asyncIterator
  ]();
  const survivor = (await engine.logs.open({ ref: 'survivor' }, logOptions({ follow: true }), signal))[
    Symbol.asyncIterator
  ]();
  await doomed.next();
  await survivor.next();
  const waiting = doomed.next();
  await sleep(20);
  engine.removeContainer('doomed');
  t.same(await waiting, { done: true, value: undefined });
  t.equal(engine.activeReaders, 1);
  await t.rejects(engine.logs.open({ ref: 'doomed' }, logOptions(), signal), { code: 'CONTAINER_NOT_FOUND' });
  t.notOk((await engine.containers()).some((c) => c.names.includes('doomed')));
  await survivor.return!();
  t.equal(engine.activeReaders, 0);
});

t.test('stop() ends every open stream and the engine reports itself unavailable', async (t) => {
  const engine = await startedEngine(t, {});
  t.same(await engine.health(), { ok: true });
  const signal = new AbortController().signal;
  const followers = await Promise.all(
    ['mock-chatty', 'mock-tty', 'mock-bytes'].map(async (ref) =>
      (await engine.logs.open({ ref }, logOptions({ follow: true, tail: 0 }), signal))[Symbol.asyncIterator](),
    ),
  );
  const pending = followers.map((f) => f.next());
  t.equal(engine.activeReaders, 3);
  await engine.stop();
  for (const result of await Promise.all(pending)) t.same(result, { done: true, value: undefined });
  t.equal(engine.activeReaders, 0);
  t.equal((await engine.health()).ok, false);
  await t.rejects(engine.logs.open({ ref: 'mock-chatty' }, logOptions(), signal), EngineUnavailableError);
  await t.rejects(engine.containers(), EngineUnavailableError);

  await engine.start();
  t.same(await engine.health(), { ok: true }, 'and it can start again');
  const lines = lineRecords(
    (await readAll(await engine.logs.open({ ref: 'mock-chatty' }, logOptions({ tail: 3 }), signal))).records,
  );
  t.equal(lines.length, 3);
});
