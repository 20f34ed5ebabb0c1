// after=<cursor>: read some lines, resume after the k-th → exactly the rest.
import t from 'tap';
import {
  TimeCursorSequencer,
  decodeCursor,
  encodeTimeCursor,
  isAfterCursor,
  type LineRecord,
  type LogOptions,
  type TimeCursor,
} from '@enginegate/plugin-api';
import { MockEngine } from '@enginegate/plugin-mock';
import { ManualClock, lineRecords, logOptions, numberedLine, readAll } from './fixtures/log-reading.js';

async function setUp() {
  const clock = new ManualClock();
  const engine = new MockEngine({ clock: clock.read, builtinContainers: false });
  await engine.start();
  engine.addContainer({ name: 'spaced', lineCount: 300, intervalMs: 10, historyLines: 300, lineAt: numberedLine });
  // Every line at once: 3,000 lines share one time, told apart by the cursor's seq.
  engine.addContainer({ name: 'burst', lineCount: 3000, intervalMs: 0, lineAt: numberedLine });
  const read = async (ref: string, options: LogOptions = logOptions()) =>
    lineRecords((await readAll(await engine.logs.open({ ref }, options, new AbortController().signal))).records);
  return { clock, engine, read };
}

const texts = (records: LineRecord[]) => records.map((r) => r.line.toString());

for (const ref of ['spaced', 'burst']) {
  t.test(`${ref}: resuming after the k-th cursor gives exactly the rest`, async (t) => {
    const { read } = await setUp();
    const all = await read(ref);
    t.equal(new Set(all.map((r) => r.cursor)).size, all.length, 'cursors are unique');
    for (const k of [0, 1, 2, 99, 100, all.length / 2, all.length - 2, all.length - 1]) {
      const rest = await read(ref, logOptions({ after: decodeCursor(all[k]!.cursor) }));
      t.same(texts(rest), texts(all.slice(k + 1)), `after #${k}`);
    }
  });

  t.test(
    `${ref}: cursors follow plugin-api's rule (TimeCursorSequencer numbering, isAfterCursor resume)`,
    async (t) => {
      const { read } = await setUp();
      const all = await read(ref);
      const sequencer = new TimeCursorSequencer();
      t.same(
        all.map((r) => r.cursor),
        all.map((r) => sequencer.next(r.time!).cursor),
      );
      const after = decodeCursor(all[123]!.cursor) as TimeCursor;
      const expected = all.filter((r) => {
        const { seq } = decodeCursor(r.cursor) as TimeCursor;
        return isAfterCursor(after, r.time!, seq);
      });
      t.same(texts(await read(ref, logOptions({ after }))), texts(expected));
    },
  );

  t.test(`${ref}: a cursor from a stdout-only read resumes a stdout-only read`, async (t) => {
    const { read } = await setUp();
    const stdoutOnly = logOptions({ stderr: false });
    const first = (await read(ref, stdoutOnly)).slice(0, 40);
    const rest = await read(ref, logOptions({ stderr: false, after: decodeCursor(first.at(-1)!.cursor) }));
    const whole = await read(ref, stdoutOnly);
    t.same([...texts(first), ...texts(rest)], texts(whole), 'no duplicate, none missing');
  });
}

t.test('after overrides tail; since still applies', async (t) => {
  const { read } = await setUp();
  const all = await read('spaced');
  const after = decodeCursor(all[9]!.cursor);
  t.same(texts(await read('spaced', logOptions({ after, tail: 2 }))), texts(all.slice(10)));
  t.same(texts(await read('spaced', logOptions({ after, since: all[200]!.time! }))), texts(all.slice(200)));
});

t.test('cursors outside the log', async (t) => {
  const { read } = await setUp();
  const all = await read('burst');
  const time = all[0]!.time!;
  t.equal(all.length, 3000);
  t.same(
    texts(await read('burst', logOptions({ after: decodeCursor(encodeTimeCursor(time - 1n, 0)) }))),
    texts(all),
    'before the first line: everything',
  );
  t.same(
    await read('burst', logOptions({ after: decodeCursor(encodeTimeCursor(time, 999_999_999)) })),
    [],
    'a seq past the last tie: nothing, at once',
  );
  t.same(
    await read('burst', logOptions({ after: decodeCursor(encodeTimeCursor(time + 1n, 0)) })),
    [],
    'after the last line: nothing',
  );
});

t.test('following after a cursor picks up lines written later', async (t) => {
  const { engine, clock, read } = await setUp();
  engine.addContainer({
    name: 'growing',
    lineCount: 30,
    intervalMs: 1000,
    historyLines: 10,
    lineAt: numberedLine,
    exitCode: 0,
  });
  const first = await read('growing');
  t.equal(first.length, 10);
  clock.advanceMs(60_000); // the container has written its 30 lines and exited
  const source = await engine.logs.open(
    { ref: 'growing' },
    logOptions({ follow: true, after: decodeCursor(first.at(-1)!.cursor) }),
    new AbortController().signal,
  );
  const { records } = await readAll(source);
  t.same(
    texts(lineRecords(records)),
    Array.from({ length: 20 }, (_, i) => `line ${i + 10}`),
  );
  t.same(records.at(-1), { type: 'exit', exitCode: 0 });
});
