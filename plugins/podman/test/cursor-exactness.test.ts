// Cursors are exact although Podman's log times have whole seconds only. Against a fake libpod
// service (fixtures/fake-libpod.ts) that serves logs chosen entry by entry: many entries in
// one second, lines whose pieces span seconds and interleave with the other stream, lines cut
// at 1 MiB, an unterminated last line. For every record of a full read, `after=<its cursor>`
// must give exactly the records behind it; `tail=N` exactly the last N, with the same cursors.
import t from 'tap';
import { decodeCursor, type LineRecord, type LogOptions } from '@enginegate/plugin-api';
import { PodmanEngine } from '@enginegate/plugin-podman';
import { collect, lineRecords, recordingLogger } from '@enginegate/test-harness/log-records';
import { fakeLibpod, type FakeContainer, type FakeEntry } from './fixtures/fake-libpod.js';

const ALL: LogOptions = { follow: false, stdout: true, stderr: true };
const S0 = 1_796_000_000n * 1_000_000_000n;

/** A deterministic pseudo-random generator (mulberry32): the same logs on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log as conmon writes it: whole lines, pieces without a newline, seconds apart or not. */
function randomLog(seed: number, count: number): FakeEntry[] {
  const next = random(seed);
  const entries: FakeEntry[] = [];
  let time = S0 + 123_000_000n;
  for (let i = 0; i < count; i++) {
    const jump = next();
    time += jump < 0.6 ? 1000n : jump < 0.9 ? 400_000_000n : 2_300_000_000n;
    const stream = next() < 0.7 ? 'stdout' : 'stderr';
    const kind = next();
    let content: Buffer;
    if (kind < 0.5) content = Buffer.from(`line ${i}\n`);
    else if (kind < 0.75) content = Buffer.from(`piece ${i} `);
    else if (kind < 0.85) content = Buffer.from('\n');
    else if (kind < 0.95) content = Buffer.alloc(8192, 0x61 + (i % 26));
    else content = Buffer.from([0xff, 0x00, 0x0d, 0x0a]);
    entries.push({ stream, timeNs: time, content });
  }
  return entries;
}

/** 130 entries of 8 KiB and a newline: a line over 1 MiB, cut into two records, over two seconds. */
function longLine(start: bigint): FakeEntry[] {
  const pieces: FakeEntry[] = Array.from({ length: 130 }, (_, i) => ({
    stream: 'stdout' as const,
    timeNs: start + (i < 100 ? 0n : 1_000_000_000n),
    content: Buffer.alloc(8192, 0x41 + (i % 26)),
  }));
  pieces.push({ stream: 'stdout', timeNs: start + 1_000_000_000n, content: Buffer.from('end of the long line\n') });
  return pieces;
}

const describe = (r: LineRecord) =>
  `${r.stream}|${r.time}|${r.partial === true}|${r.line.toString('base64')}|${r.cursor}`;

const logs: Array<{ label: string; entries: FakeEntry[] }> = [
  { label: 'random log 1', entries: randomLog(1, 60) },
  { label: 'random log 2', entries: randomLog(2, 80) },
  {
    label: 'random log 3, ending inside a line',
    entries: [
      ...randomLog(3, 50),
      ...[{ stream: 'stderr' as const, timeNs: S0 + 900n * 1_000_000_000n, content: Buffer.from('unterminated') }],
    ],
  },
  {
    label: 'a stdout line over 1 MiB across two seconds, stderr lines between its pieces',
    entries: (() => {
      const long = longLine(S0 + 5_000_000_000n);
      long.splice(50, 0, { stream: 'stderr', timeNs: S0 + 5_000_000_000n, content: Buffer.from('stderr inside\n') });
      long.splice(110, 0, { stream: 'stderr', timeNs: S0 + 6_000_000_000n, content: Buffer.from('stderr later\n') });
      return [{ stream: 'stdout' as const, timeNs: S0 + 4_000_000_000n, content: Buffer.from('before\n') }, ...long];
    })(),
  },
  {
    label: '3,000 entries in one second',
    entries: Array.from({ length: 3000 }, (_, i) => ({
      stream: i % 7 === 0 ? ('stderr' as const) : ('stdout' as const),
      timeNs: S0 + 7_000_000_000n + BigInt(i),
      content: Buffer.from(`same second ${i}\n`),
    })),
  },
];

const containers: FakeContainer[] = logs.map((log, i) => ({
  id: `${i}`.repeat(64).slice(0, 64),
  name: `log${i}`,
  entries: log.entries,
  running: false,
  exitCode: 0,
}));
const fake = await fakeLibpod(t, containers);
const engine = new PodmanEngine({
  config: { podmanSocket: fake.socket },
  logger: recordingLogger(),
  reportHealth: () => {},
});
await engine.start();
t.teardown(() => engine.stop());
const read = async (ref: string, options: LogOptions) =>
  lineRecords((await collect(await engine.logs.open({ ref }, options, new AbortController().signal))).records);

for (const [i, log] of logs.entries()) {
  t.test(log.label, async (t) => {
    const ref = `log${i}`;
    const full = await read(ref, ALL);
    t.ok(full.length > 0, `${full.length} records`);
    t.equal(new Set(full.map((r) => r.cursor)).size, full.length, 'every record has its own cursor');
    const wanted = full.map(describe);
    let exact = 0;
    const step = full.length > 200 ? Math.ceil(full.length / 50) : 1;
    for (let k = 0; k < full.length; k += step) {
      const rest = (await read(ref, { ...ALL, after: decodeCursor(full[k]!.cursor) })).map(describe);
      if (JSON.stringify(rest) === JSON.stringify(wanted.slice(k + 1))) exact++;
      else t.same(rest, wanted.slice(k + 1), `after record ${k}`);
    }
    t.equal(
      exact,
      Math.ceil(full.length / step),
      `after=<cursor> of every record checked gives exactly the records behind it (${exact})`,
    );
    const tails = [0, 1, 2, 3, Math.floor(full.length / 2), full.length - 1, full.length, full.length + 5];
    for (const tail of tails) {
      const got = (await read(ref, { ...ALL, tail })).map(describe);
      t.same(
        got,
        tail === 0 ? [] : wanted.slice(-tail),
        `tail=${tail}: the last ${tail} records, with the cursors of the full read`,
      );
    }
    const k = Math.floor(full.length / 3);
    t.same(
      (await read(ref, { ...ALL, stderr: false, after: decodeCursor(full[k]!.cursor) })).map(describe),
      full
        .slice(k + 1)
        .filter((r) => r.stream === 'stdout')
        .map(describe),
      'after= with stderr=false: the stdout records behind the cursor',
    );
  });
}

t.test(
  'a line without an end, read while the container writes: resuming behind it gives only what came next',
  async (t) => {
    const growing: FakeContainer = {
      id: 'a'.repeat(64),
      name: 'growing',
      running: false,
      exitCode: 0,
      entries: [
        { stream: 'stdout', timeNs: S0 + 1_000_000_000n, content: Buffer.from('first\n') },
        { stream: 'stdout', timeNs: S0 + 1_000_000_100n, content: Buffer.from('progress 10%') },
        { stream: 'stderr', timeNs: S0 + 1_000_000_200n, content: Buffer.from('err without end') },
      ],
    };
    fake.containers.set(growing.id, growing);
    const before = await read('growing', ALL);
    t.same(
      before.map((r) => [r.stream, r.line.toString(), r.partial === true]),
      [
        ['stdout', 'first', false],
        ['stdout', 'progress 10%', true],
        ['stderr', 'err without end', true],
      ],
      'the unterminated lines are flushed as partial records at the end of the read',
    );
    // conmon writes the rest of both lines, a second later.
    growing.entries.push(
      { stream: 'stdout', timeNs: S0 + 2_000_000_000n, content: Buffer.from(' 100%\n') },
      { stream: 'stderr', timeNs: S0 + 2_000_000_100n, content: Buffer.from(' ends now\n') },
      { stream: 'stdout', timeNs: S0 + 2_000_000_200n, content: Buffer.from('last\n') },
    );
    const afterStdout = await read('growing', { ...ALL, after: decodeCursor(before[1]!.cursor) });
    t.same(
      afterStdout.map((r) => [r.stream, r.line.toString()]),
      [
        ['stdout', ' 100%'],
        ['stderr', 'err without end ends now'],
        ['stdout', 'last'],
      ],
      'behind the flushed stdout line: its rest alone; the stderr line, never delivered, whole',
    );
    const afterBoth = await read('growing', { ...ALL, after: decodeCursor(before[2]!.cursor) });
    t.same(
      afterBoth.map((r) => [r.stream, r.line.toString()]),
      [
        ['stdout', ' 100%'],
        ['stderr', ' ends now'],
        ['stdout', 'last'],
      ],
      'behind both flushed lines: the rest of each, no byte twice',
    );
  },
);
