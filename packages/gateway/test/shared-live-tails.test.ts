// Followers of one container share one engine stream for the live part: each still gets its
// own history first and joins the live tail exactly behind its last line (none twice, none
// lost); a follower that falls behind reads on its own again, without slowing the others.
import t, { type Test } from 'tap';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRef, LogOptions, LogRecord, LogSource } from '@enginegate/plugin-api';
import { MockEngine } from '@enginegate/plugin-mock';
import { SharedLiveTails } from '../src/logs/shared-live-tails.js';
import { eventually, startGateway } from './fixtures/harness.js';

const FOLLOW: LogOptions = { follow: true, stdout: true, stderr: true };

/** A mock engine with one container writing `n <i>` every 2 ms, and a count of its opens. */
async function countingEngine(t: Test, spec: { lineCount?: number; exitCode?: number } = {}) {
  const engine = new MockEngine({ builtinContainers: false });
  engine.addContainer({
    name: 'counter',
    lineCount: spec.lineCount ?? Infinity,
    intervalMs: 2,
    historyLines: 200,
    exitCode: spec.exitCode,
    lineAt: (i) => ({ stream: i % 3 === 0 ? 'stderr' : 'stdout', bytes: Buffer.from(`n ${i}`) }),
  });
  await engine.start();
  t.teardown(() => engine.stop());
  const opens = { follow: 0, read: 0 };
  const source: LogSource = {
    open: (ref: ContainerRef, options: LogOptions, signal: AbortSignal) => {
      if (options.follow) opens.follow += 1;
      else opens.read += 1;
      return engine.logs.open(ref, options, signal);
    },
  };
  return { engine, source, opens };
}

/** Pulls a follow until it holds `count` lines (or the stream ends). */
async function take(iterable: AsyncIterable<LogRecord[]>, count: number, pauseMs = 0) {
  const lines: number[] = [];
  const others: LogRecord[] = [];
  for await (const batch of iterable) {
    for (const record of batch) {
      if (record.type === 'line') lines.push(Number(record.line.toString().slice(2)));
      else others.push(record);
    }
    if (lines.length >= count) break;
    if (pauseMs > 0) await sleep(pauseMs);
  }
  return { lines, others };
}

const consecutive = (lines: number[]) => lines.every((n, i) => i === 0 || n === lines[i - 1]! + 1);

t.test('20 followers with their own tail and after: one engine follow stream, every line once', async (t) => {
  const { source, opens } = await countingEngine(t);
  const tails = new SharedLiveTails({ enabled: true, maxQueuedRecords: 10_000 });
  const engine = { generation: 1, source };
  const abort = new AbortController();
  // 21 followers on one signal here (each client of the gateway has its own): no leak warning.
  setMaxListeners(64, abort.signal);
  const ref = { ref: 'counter' };
  // The first follower stays (it is still reading when the others join).
  const keeper = take(await tails.open(engine, ref, { ...FOLLOW, tail: 3 }, abort.signal), Infinity);
  const firstCursorAt = Date.now();
  const follows = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const options: LogOptions = i % 2 === 0 ? { ...FOLLOW, tail: 10 } : { ...FOLLOW, tail: 0 };
      await sleep(i * 3); // joining while the container writes
      return tails.open(engine, ref, options, abort.signal);
    }),
  );
  t.equal(tails.size, 1, 'one shared tail');
  const results = await Promise.all(follows.map((follow) => take(follow, 150)));
  abort.abort();
  await keeper;
  t.equal(opens.follow, 1, 'the engine was asked for one follow stream');
  for (const [i, { lines }] of results.entries()) {
    t.ok(consecutive(lines), `follower ${i}: ${lines[0]}…${lines.at(-1)} with no line twice or missing`);
  }
  t.ok(
    results.every((r, i) => i % 2 === 1 || r.lines.length >= 150),
    'each got its history and the live lines',
  );
  t.ok(Date.now() - firstCursorAt < 20_000);
  await sleep(20);
  t.equal(tails.size, 0, 'the last follower gone: the shared stream is released');
});

t.test('after= joins exactly behind the named line', async (t) => {
  const { source } = await countingEngine(t);
  const tails = new SharedLiveTails({ enabled: true, maxQueuedRecords: 10_000 });
  const engine = { generation: 1, source };
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const ref = { ref: 'counter' };
  const keeper = tails.open(engine, ref, { ...FOLLOW, tail: 0 }, abort.signal); // keeps the hub open
  void take(await keeper, Infinity);
  const seen: LogRecord[] = [];
  for await (const batch of await tails.open(engine, ref, { ...FOLLOW, tail: 5 }, abort.signal)) {
    seen.push(...batch.filter((r) => r.type === 'line').map((r) => ({ ...r, line: Buffer.from(r.line) })));
    if (seen.length >= 40) break;
  }
  const last = seen.at(-1) as LogRecord & { type: 'line' };
  const { decodeCursor } = await import('@enginegate/plugin-api');
  const resumed = await take(
    await tails.open(engine, ref, { ...FOLLOW, after: decodeCursor(last.cursor) }, abort.signal),
    30,
  );
  t.equal(resumed.lines[0], Number(last.line.toString().slice(2)) + 1, 'the very next line first');
  t.ok(consecutive(resumed.lines), 'then every line once');
});

t.test('a slow follower leaves the shared tail, reads on its own, loses nothing; the others keep pace', async (t) => {
  const { source, opens } = await countingEngine(t);
  // 500 records: the slow follower (a batch each 40 ms, 20 lines written meanwhile) is that far
  // behind within about a second; the fast one only if it were starved for a second.
  const tails = new SharedLiveTails({ enabled: true, maxQueuedRecords: 500 });
  const engine = { generation: 1, source };
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const ref = { ref: 'counter' };
  const fast = await tails.open(engine, ref, { ...FOLLOW, tail: 0 }, abort.signal);
  const slow = await tails.open(engine, ref, { ...FOLLOW, tail: 0 }, abort.signal);
  const started = Date.now();
  const [fastResult, slowResult] = await Promise.all([take(fast, 300), take(slow, 300, 40)]);
  t.ok(consecutive(fastResult.lines), 'the fast follower: every line once');
  t.ok(consecutive(slowResult.lines), `the slow follower too (${slowResult.lines[0]}…${slowResult.lines.at(-1)})`);
  t.equal(opens.follow, 2, 'the slow one opened a stream of its own once it fell 500 records behind');
  t.ok(Date.now() - started < 30_000);
});

t.test('the exit reaches every follower; the engine failing reaches every follower', async (t) => {
  const { source } = await countingEngine(t, { lineCount: 400, exitCode: 4 });
  const tails = new SharedLiveTails({ enabled: true, maxQueuedRecords: 10_000 });
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const follows = await Promise.all(
    [0, 1, 2].map(() =>
      tails.open({ generation: 1, source }, { ref: 'counter' }, { ...FOLLOW, tail: 2 }, abort.signal),
    ),
  );
  const results = await Promise.all(follows.map((f) => take(f, Infinity)));
  for (const { lines, others } of results) {
    t.equal(lines.at(-1), 399, 'to the last line');
    t.ok(consecutive(lines));
    t.same(others, [{ type: 'exit', exitCode: 4 }], 'then the exit');
  }

  let calls = 0;
  const failing: LogSource = {
    open: async (_ref, options) =>
      (async function* () {
        calls += 1;
        yield [{ type: 'line', stream: 'stdout', time: 1n, line: Buffer.from('n 1'), cursor: 't1.0' } as const];
        if (options.follow) throw Object.assign(new Error('daemon gone'), { code: 'ENGINE_UNAVAILABLE' });
      })(),
  };
  const failingFollows = await Promise.all(
    [0, 1].map(() => tails.open({ generation: 2, source: failing }, { ref: 'x' }, FOLLOW, abort.signal)),
  );
  for (const follow of failingFollows) {
    await t.rejects(take(follow, Infinity), { message: 'daemon gone' }, 'the failure is passed on');
  }
  t.ok(calls > 0);
});

t.test('turned off, or not a plain follow: every client reads on its own', async (t) => {
  const { source, opens } = await countingEngine(t);
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const off = new SharedLiveTails({ enabled: false, maxQueuedRecords: 10_000 });
  for (let i = 0; i < 3; i++)
    void take(await off.open({ generation: 1, source }, { ref: 'counter' }, FOLLOW, abort.signal), 5);
  t.equal(opens.follow, 3);
  t.equal(off.size, 0);
  const on = new SharedLiveTails({ enabled: true, maxQueuedRecords: 10_000 });
  const until = BigInt(Date.now() + 60_000) * 1_000_000n;
  await on.open({ generation: 1, source }, { ref: 'counter' }, { ...FOLLOW, until }, abort.signal);
  t.equal(on.size, 0, 'a follow with until is not shared');
  const asked = opens.follow + opens.read;
  await t.rejects(
    on.open({ generation: 1, source }, { ref: 'nosuch' }, FOLLOW, abort.signal),
    { code: 'CONTAINER_NOT_FOUND' },
    'an unknown container is refused as without sharing',
  );
  t.equal(opens.follow + opens.read, asked + 1, 'and the engine is asked about it once');
});

t.test('through the gateway: 30 WebSocket followers of mock-chatty share one engine stream', async (t) => {
  const { gw, client } = await startGateway(t);
  const mock = gw.engines.engineNamed('mock') as MockEngine;
  const sockets = Array.from({ length: 30 }, (_, i) =>
    client.socket(`/passthrough/engine/logs/mock-chatty?tail=${i % 3}`, ['v1.text.enginegate']),
  );
  await Promise.all(sockets.map((s) => s.waitForMessages(8)));
  t.equal(gw.container.cradle.liveTails.size, 1, 'one shared live tail');
  // Each follower's own history read has ended; what is left open is the shared stream.
  t.equal(mock.activeReaders, 1, 'the mock engine has one reader open');
  for (const [i, s] of sockets.entries()) {
    const numbers = s.texts().map((line) => Number(/^chatty line (\d+) /.exec(line)![1]));
    t.ok(consecutive(numbers), `follower ${i}: ${numbers[0]}…${numbers.at(-1)}, none twice or missing`);
    s.socket.close();
  }
  await Promise.all(sockets.map((s) => s.closed));
  t.ok(await eventually(() => mock.activeReaders === 0 && gw.container.cradle.liveTails.size === 0), 'all released');
});
