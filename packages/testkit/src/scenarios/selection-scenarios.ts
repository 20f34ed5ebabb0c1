import type { Test } from 'tap';
import { parseRfc3339, NS_PER_S, nowNanos } from '@enginegate/plugin-api';
import type { ContainerWrite } from '../conformance-target.js';
import { decodeNdjson, lineRecords, type DecodedLine } from '../framing-decoders.js';
import { joinedOutput, numberedLines, ofStream, sameLines, type SuiteHarness } from '../suite-harness.js';
import type { Scenario } from './scenario.js';

/** The reference read holds every line written, in order (per stream: two pipes need not interleave as written). */
export function checkReferenceMatchesWritten(
  t: Test,
  h: SuiteHarness,
  reference: DecodedLine[],
  written: ContainerWrite[],
): void {
  if (h.capabilities.stderr) {
    for (const stream of ['stdout', 'stderr'] as const) {
      sameLines(
        t,
        ofStream(reference, stream),
        ofStream(written, stream),
        `every ${stream} line written is read back, in order`,
      );
    }
  } else {
    sameLines(t, reference, written, 'every line written is read back, in order', { ignoreStream: true });
  }
}

const tail: Scenario = async (t, h) => {
  const written = numberedLines('tail', 10, h.capabilities.stderr);
  const { container, reference } = await h.createFinished(t, written);
  checkReferenceMatchesWritten(t, h, reference, written);
  const { ref } = container;

  const last3 = lineRecords(await h.readJson(ref, { follow: false, tail: 3 }));
  sameLines(t, last3, reference.slice(-3), 'tail=3 gives the last 3 lines of both streams');
  t.same(
    last3.map((line) => line.cursor),
    reference.slice(-3).map((line) => line.cursor),
    'tail=3: the same cursors as a full read',
  );
  t.same(lineRecords(await h.readJson(ref, { follow: false, tail: 0 })), [], 'tail=0 gives no line');
  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, tail: 'all' })),
    reference,
    'tail=all gives every line',
  );
  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, tail: 25 })),
    reference,
    'tail beyond the log gives every line',
  );
  if (h.capabilities.exits) {
    sameLines(
      t,
      lineRecords(await h.readJson(ref, { follow: true, tail: 3 })),
      reference.slice(-3),
      'tail=3 with follow=true on an exited container: the last 3 lines, then the end',
    );
  } else t.comment(`no follow=true check: ${h.missing('exits')}`);

  const http = await h.client.readHttp(ref, { follow: false, tail: 3 });
  t.equal(http.status, 200, 'plain HTTP tail=3: 200');
  t.ok(http.body.equals(joinedOutput(reference.slice(-3))), 'plain HTTP tail=3: the last 3 lines, raw');
};

/** Every line has a time, in order, and a wall-clock one. */
function checkLineTimes(t: Test, reference: DecodedLine[]): void {
  const times = reference.map((line) => line.time);
  t.ok(
    times.every((time) => typeof time === 'string'),
    'every line carries a time',
  );
  t.same([...times].sort(), times, 'times do not go backwards');
  const newest = parseRfc3339(times[times.length - 1] ?? '') ?? 0n;
  const skew = newest > nowNanos() ? newest - nowNanos() : nowNanos() - newest;
  t.ok(skew < 3600n * NS_PER_S, `line times are wall-clock times (newest ${times[times.length - 1]})`);
}

const sinceUntil: Scenario = async (t, h) => {
  // A running container: `until` must also end a followed stream whose container keeps running.
  const written = numberedLines('since', 8);
  const container = await h.createContainer(t, written, { intervalMs: 40 });
  const { ref } = container;
  const reference = lineRecords(await h.readJsonWhenComplete(ref, written.length));
  sameLines(t, reference, written, 'a follow=false read of a running container gives the lines written so far');

  checkLineTimes(t, reference);

  const since = reference[2]!.time!;
  const until = reference[5]!.time!;
  const within = (line: DecodedLine, from?: string, to?: string) =>
    (from === undefined || line.time! >= from) && (to === undefined || line.time! <= to);

  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, since, until })),
    reference.filter((l) => within(l, since, until)),
    `since=${since}&until=${until}: both bounds inclusive`,
  );
  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, since })),
    reference.filter((l) => within(l, since)),
    'since alone',
  );
  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, until })),
    reference.filter((l) => within(l, undefined, until)),
    'until alone',
  );

  const sinceNs = parseRfc3339(since)!;
  const unixSeconds = `${sinceNs / NS_PER_S}.${(sinceNs % NS_PER_S).toString().padStart(9, '0')}`;
  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, since: unixSeconds })),
    reference.filter((l) => within(l, since)),
    `since in Unix seconds (${unixSeconds}) means the same as RFC3339Nano`,
  );
  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, since: '1h' })),
    reference,
    'since=1h (a duration) gives every recent line',
  );
  t.same(
    lineRecords(await h.readJson(ref, { follow: false, since: '2100-01-01T00:00:00Z' })),
    [],
    'since in the future gives no line',
  );

  // follow=true with an `until` in the past: what lies before it, then the stream ends although the container runs.
  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: true, until }, 5_000)),
    reference.filter((l) => within(l, undefined, until)),
    'follow=true&until=<past>: the lines up to until, then the end (the container still runs)',
  );
};

const timestamps: Scenario = async (t, h) => {
  const written = ['first', 'second line', 'ünïcödé ✓', '', 'last'].map((text) => ({
    stream: 'stdout' as const,
    bytes: Buffer.from(text),
  }));
  const { container, reference } = await h.createFinished(t, written, { intervalMs: 10 });
  checkReferenceMatchesWritten(t, h, reference, written);
  const { ref } = container;
  const stamped = (line: DecodedLine) => `${line.time} ${line.bytes.toString('utf8')}`;

  t.same(
    await h.readText(ref, { follow: false, timestamps: true }),
    reference.map(stamped),
    'text framing, timestamps=true: "<fixed-width time> <line>" per message, the time of the JSON record',
  );
  t.same(
    await h.readText(ref, { follow: false, timestamps: false }),
    reference.map((line) => line.bytes.toString('utf8')),
    'text framing, timestamps=false: no prefix',
  );
  const expectedRaw = Buffer.from(reference.map((line) => `${stamped(line)}\n`).join(''));
  t.ok(
    (await h.readRaw(ref, { follow: false, timestamps: true })).equals(expectedRaw),
    'raw framing, timestamps=true: every line prefixed',
  );
  const http = await h.client.readHttp(ref, { follow: false, timestamps: true });
  t.ok(http.body.equals(expectedRaw), 'plain HTTP, timestamps=true: every line prefixed');
};

const streamSeparation: Scenario = async (t, h) => {
  const written = numberedLines('streams', 12, true);
  const { container, reference } = await h.createFinished(t, written);
  checkReferenceMatchesWritten(t, h, reference, written);
  const { ref } = container;
  const stdoutLines = ofStream(written, 'stdout');
  const stderrLines = ofStream(written, 'stderr');

  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, stdout: false })),
    stderrLines,
    'stdout=false: only stderr, marked stderr',
  );
  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, stderr: false })),
    stdoutLines,
    'stderr=false: only stdout, marked stdout',
  );
  sameLines(
    t,
    lineRecords(await h.readBinary(ref, { follow: false })),
    reference,
    'binary framing: stream byte 1 for stdout, 2 for stderr',
  );
  t.ok(
    (await h.readRaw(ref, { follow: false, stderr: false })).equals(joinedOutput(stdoutLines)),
    'raw framing, stderr=false: stdout only',
  );
  t.same(
    await h.readText(ref, { follow: false, stdout: false }),
    stderrLines.map((line) => line.bytes.toString()),
    'text framing, stdout=false: stderr only',
  );
  const ndjson = await h.client.readHttp(ref, { follow: false, stdout: false }, { accept: 'application/x-ndjson' });
  sameLines(t, lineRecords(decodeNdjson(ndjson.body)), stderrLines, 'NDJSON, stdout=false: stderr only');
};

const ttyMerged: Scenario = async (t, h) => {
  const written = numberedLines('tty', 6, true);
  const { reference } = await h.createFinished(t, written, { tty: true, intervalMs: 10 });
  t.ok(
    reference.every((line) => line.stream === 'stdout'),
    'a TTY has one output stream: every line on stdout',
  );
  // A terminal turns "\n" into "\r\n"; engines may keep the "\r".
  const withoutCr = reference.map((line) => ({
    ...line,
    bytes: line.bytes.at(-1) === 0x0d ? line.bytes.subarray(0, -1) : line.bytes,
  }));
  sameLines(t, withoutCr, written, 'the TTY output arrives whole and in the order written', { ignoreStream: true });
};

export const selectionScenarios: Record<string, Scenario> = {
  tail,
  'since-until': sinceUntil,
  timestamps,
  'stream-separation': streamSeparation,
  'tty-merged': ttyMerged,
};
