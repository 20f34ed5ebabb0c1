// 50 MiB through one reader: every line, in order, fast; and a reader that stops pulling
// makes the engine produce (and hold) nothing more.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MockEngine } from '@enginegate/plugin-mock';
import { logOptions } from './fixtures/log-reading.js';

const LINE_BYTES = 1024;
const LINES = 51_200; // × 1 KiB = 50 MiB
const MiB = 1024 * 1024;

// A real collection before each memory reading, when V8 lets us have one.
setFlagsFromString('--expose-gc');
const gc = (globalThis.gc ?? runInNewContext('gc')) as (() => void) | undefined;
/** The JS heap plus Buffer memory (line bytes live outside the heap), after collecting garbage. */
async function memoryInUse(): Promise<number> {
  // V8 frees Buffer memory in a sweep that finishes after gc() returns: give it a few turns.
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

async function setUp(t: { teardown(fn: () => unknown): void }) {
  const engine = new MockEngine({ builtinContainers: false });
  await engine.start();
  t.teardown(() => engine.stop());
  const produced = { lines: 0 };
  engine.addContainer({
    name: 'firehose',
    lineCount: LINES,
    intervalMs: 0,
    lineAt: (i) => {
      produced.lines += 1;
      // Each line names its index, padded to 1 KiB.
      const bytes = Buffer.alloc(LINE_BYTES, '.');
      bytes.write(`${i}:`);
      return { stream: i % 2 === 0 ? 'stdout' : 'stderr', bytes };
    },
  });
  return { engine, produced };
}

t.test('a 50 MiB log read fully: every line, in order, quickly', async (t) => {
  const { engine } = await setUp(t);
  const started = performance.now();
  const source = await engine.logs.open({ ref: 'firehose' }, logOptions(), new AbortController().signal);
  let next = 0;
  let bytes = 0;
  let outOfOrder = 0;
  for await (const batch of source) {
    for (const record of batch) {
      if (record.type !== 'line') continue;
      if (record.line.toString('latin1', 0, record.line.indexOf(':')) !== String(next)) outOfOrder += 1;
      next += 1;
      bytes += record.line.length;
    }
  }
  const ms = performance.now() - started;
  t.equal(next, LINES, 'every line');
  t.equal(outOfOrder, 0, 'in order');
  t.equal(bytes, 50 * MiB);
  // A bound against a pathological slowdown (a copy per line, say), not a speed goal: throughput is
  // measured by test/bench, against a baseline in the same run. Quiet, it takes about 0.3 s.
  t.ok(ms < 15_000, `read 50 MiB in ${ms.toFixed(0)} ms (${((50 * 1000) / ms).toFixed(0)} MiB/s)`);
  t.comment(`50 MiB in ${ms.toFixed(0)} ms`);
});

t.test('a reader that stops pulling makes nothing more, and memory stays flat', async (t) => {
  const { engine, produced } = await setUp(t);
  const source = await engine.logs.open(
    { ref: 'firehose' },
    logOptions({ follow: true }),
    new AbortController().signal,
  );
  t.equal(produced.lines, 0, 'opening generates no line');
  const iterator = source[Symbol.asyncIterator]();
  for (let i = 0; i < 5; i++) await iterator.next();
  const producedBeforePause = produced.lines;
  t.ok(producedBeforePause <= 5 * 1000, `${producedBeforePause} lines made for 5 pulls`);
  const memoryBefore = await memoryInUse();
  await sleep(300); // the consumer pauses; a pushing source would fill memory now
  const grownMiB = ((await memoryInUse()) - memoryBefore) / MiB;
  t.equal(produced.lines, producedBeforePause, 'no line made while nobody pulls');
  t.ok(grownMiB < 4, `memory grew ${grownMiB.toFixed(2)} MiB during the pause (gc ${gc ? 'forced' : 'unavailable'})`);

  // Pulling on: the rest arrives, and memory ends where it began (nothing accumulated).
  let lines = 0;
  while (producedBeforePause + lines < LINES) {
    const result = await iterator.next();
    if (result.done) break;
    lines += result.value.length;
  }
  const last = iterator.next();
  const settled = await Promise.race([last.then(() => 'settled'), sleep(100).then(() => 'pending')]);
  t.equal(settled, 'pending', 'then it waits: the container writes no more');
  t.equal(producedBeforePause + lines, LINES);
  const grownAfterMiB = ((await memoryInUse()) - memoryBefore) / MiB;
  t.ok(
    grownAfterMiB < 4,
    `memory after reading the other ${((lines * LINE_BYTES) / MiB).toFixed(0)} MiB: ${grownAfterMiB.toFixed(2)} MiB above the pause`,
  );
  await iterator.return!();
  t.equal(engine.activeReaders, 0);
});
