// tail / since / until / stream selection / follow=false, on a pinned clock so every
// expected line is exact.
import t from 'tap';
import { InvalidArgumentError, encodeByteCursor, decodeCursor } from '@enginegate/plugin-api';
import { MAX_BATCH_BYTES, MAX_BATCH_LINES, MockEngine } from '@enginegate/plugin-mock';
import {
  ManualClock,
  lineRecords,
  lineTexts,
  logOptions,
  numbered,
  numberedLine,
  readAll,
} from './fixtures/log-reading.js';

const SECOND = 1_000_000_000n;

async function setUp() {
  const clock = new ManualClock();
  const engine = new MockEngine({ clock: clock.read, builtinContainers: false });
  await engine.start();
  // 100 lines a second apart; 50 of them written when it is created (line 49 stamped now).
  engine.addContainer({ name: 'counter', lineCount: 100, intervalMs: 1000, historyLines: 50, lineAt: numberedLine });
  const created = clock.now;
  const timeOf = (i: number) => created + BigInt(i - 49) * SECOND;
  const read = async (options = logOptions()) =>
    (await readAll(await engine.logs.open({ ref: 'counter' }, options, new AbortController().signal))).records;
  return { clock, engine, timeOf, read };
}

t.test('follow=false delivers exactly the lines written so far, stamped at their times', async (t) => {
  const { read, timeOf } = await setUp();
  const lines = lineRecords(await read());
  t.same(
    lines.map((r) => r.line.toString()),
    numbered(0, 50),
  );
  t.same(
    lines.map((r) => r.time),
    numbered(0, 50).map((_, i) => timeOf(i)),
  );
  t.same(
    lines.map((r) => r.stream),
    numbered(0, 50).map((_, i) => (i % 2 === 0 ? 'stdout' : 'stderr')),
  );
});

t.test('more lines exist as the clock moves on', async (t) => {
  const { read, clock } = await setUp();
  clock.advanceMs(10_500);
  t.same(lineTexts(await read()), numbered(0, 60));
  clock.advanceMs(3600_000);
  t.same(lineTexts(await read()), numbered(0, 100), 'never more than lineCount');
});

t.test('follow=false ends at what existed when it was opened', async (t) => {
  const { engine, clock } = await setUp();
  const source = await engine.logs.open({ ref: 'counter' }, logOptions(), new AbortController().signal);
  clock.advanceMs(20_000);
  t.same(lineTexts((await readAll(source)).records), numbered(0, 50));
});

t.test('tail', async (t) => {
  const { read } = await setUp();
  t.same(lineTexts(await read(logOptions({ tail: 10 }))), numbered(40, 50));
  t.same(lineTexts(await read(logOptions({ tail: 1 }))), numbered(49, 50));
  t.same(lineTexts(await read(logOptions({ tail: 0 }))), []);
  t.same(lineTexts(await read(logOptions({ tail: 1000 }))), numbered(0, 50));
});

t.test('since and until are inclusive', async (t) => {
  const { read, timeOf } = await setUp();
  t.same(lineTexts(await read(logOptions({ since: timeOf(30) }))), numbered(30, 50));
  t.same(lineTexts(await read(logOptions({ since: timeOf(30) + 1n }))), numbered(31, 50));
  t.same(lineTexts(await read(logOptions({ until: timeOf(10) }))), numbered(0, 11));
  t.same(lineTexts(await read(logOptions({ until: timeOf(10) - 1n }))), numbered(0, 10));
  t.same(lineTexts(await read(logOptions({ since: timeOf(5), until: timeOf(8) }))), numbered(5, 9));
  t.same(lineTexts(await read(logOptions({ since: timeOf(8), until: timeOf(5) }))), [], 'an empty window');
  t.same(lineTexts(await read(logOptions({ since: timeOf(49) + SECOND }))), [], 'since in the future');
  t.same(lineTexts(await read(logOptions({ until: timeOf(0) - 1n }))), [], 'until before the first line');
});

t.test('tail counts back from until, and since still applies', async (t) => {
  const { read, timeOf } = await setUp();
  t.same(lineTexts(await read(logOptions({ until: timeOf(20), tail: 5 }))), numbered(16, 21));
  t.same(lineTexts(await read(logOptions({ since: timeOf(45), tail: 20 }))), numbered(45, 50));
});

t.test('stdout-only and stderr-only', async (t) => {
  const { read } = await setUp();
  const stdout = lineRecords(await read(logOptions({ stderr: false })));
  t.same(
    stdout.map((r) => r.line.toString()),
    numbered(0, 50, 2),
  );
  t.ok(stdout.every((r) => r.stream === 'stdout'));
  const stderr = lineRecords(await read(logOptions({ stdout: false })));
  t.same(
    stderr.map((r) => r.line.toString()),
    numbered(1, 50, 2),
  );
  t.ok(stderr.every((r) => r.stream === 'stderr'));
  // As Docker: tail picks the last lines of both streams, then the selection applies.
  t.same(lineTexts(await read(logOptions({ tail: 10, stderr: false }))), numbered(40, 50, 2));
});

t.test('a stream selection that matches nothing ends without lines', async (t) => {
  const { engine } = await setUp();
  engine.addContainer({
    name: 'quiet-stderr',
    lineCount: 20_000,
    intervalMs: 0,
    lineAt: (i) => ({ stream: 'stdout', bytes: Buffer.from(`${i}`) }),
  });
  const source = await engine.logs.open(
    { ref: 'quiet-stderr' },
    logOptions({ stdout: false }),
    new AbortController().signal,
  );
  const { records, batches } = await readAll(source);
  t.same(records, []);
  t.same(batches, [], 'no empty batches are handed out');
});

t.test('follow with an until in the past ends after the last line at or before it', async (t) => {
  const { read, timeOf } = await setUp();
  const records = await read(logOptions({ follow: true, until: timeOf(20) }));
  t.same(lineTexts(records), numbered(0, 21));
  t.notOk(
    records.some((r) => r.type === 'exit'),
    'the container still runs',
  );
});

t.test('history comes in batches of at most 1,000 lines or about 256 KiB', async (t) => {
  const { engine } = await setUp();
  engine.addContainer({ name: 'many', lineCount: 2500, intervalMs: 0, lineAt: numberedLine });
  const signal = new AbortController().signal;
  t.same((await readAll(await engine.logs.open({ ref: 'many' }, logOptions(), signal))).batches, [
    MAX_BATCH_LINES,
    MAX_BATCH_LINES,
    500,
  ]);

  const big = Buffer.alloc(100 * 1024, 'b');
  engine.addContainer({
    name: 'big-lines',
    lineCount: 10,
    intervalMs: 0,
    lineAt: () => ({ stream: 'stdout', bytes: big }),
  });
  const source = await engine.logs.open({ ref: 'big-lines' }, logOptions(), signal);
  let lines = 0;
  for await (const batch of source) {
    const bytes = lineRecords(batch).reduce((sum, r) => sum + r.line.length, 0);
    t.ok(bytes - big.length < MAX_BATCH_BYTES, `a batch of ${bytes} bytes`);
    lines += batch.length;
  }
  t.equal(lines, 10);
});

t.test('options no client could have sent are 400s, raised by open()', async (t) => {
  const { engine } = await setUp();
  const signal = new AbortController().signal;
  const open = (options: Parameters<typeof logOptions>[0]) =>
    engine.logs.open({ ref: 'counter' }, logOptions(options), signal);
  await t.rejects(open({ stdout: false, stderr: false }), InvalidArgumentError);
  await t.rejects(open({ tail: -1 }), InvalidArgumentError);
  await t.rejects(open({ tail: 1.5 }), InvalidArgumentError);
  await t.rejects(open({ after: decodeCursor(encodeByteCursor(10)) }), {
    code: 'INVALID_ARGUMENT',
    parameter: 'after',
  });
  t.equal(engine.activeReaders, 0, 'a refused open leaves no reader behind');
});
