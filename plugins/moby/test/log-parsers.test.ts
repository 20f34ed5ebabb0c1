// The parsers of Docker's log body, the timestamp fast path and the query builder, without a
// daemon: byte-exact inputs as Docker 20.10 sends them.
import t from 'tap';
import { decodeCursor, formatTimestamp, type LogOptions, type StreamName } from '@enginegate/plugin-api';
import {
  DOCKER_PIECE_BYTES,
  MultiplexedLogParser,
  TtyLogParser,
  dockerLogsQuery,
  toDockerTimeParam,
  type DockerLogParser,
} from '@enginegate/plugin-moby';

const T1 = '2026-11-27T03:16:09.473072603Z';
const T2 = '2026-11-27T03:16:09.473676083Z';
const T3 = '2026-11-27T03:16:10.000000001Z';

function frame(stream: number, payload: Buffer | string): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'latin1');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

interface Parsed {
  stream: StreamName;
  time: string;
  line: string;
  partial: boolean;
}

/** Feeds `input` in chunks of `chunkSize` bytes and collects every line. */
function parse(parser: DockerLogParser, input: Buffer, chunkSize = input.length, end = true): Parsed[] {
  const out: Parsed[] = [];
  const sink = (stream: StreamName, time: bigint, line: Buffer, partial: boolean) =>
    out.push({ stream, time: formatTimestamp(time), line: line.toString('latin1'), partial });
  for (let i = 0; i < input.length; i += chunkSize) parser.push(input.subarray(i, i + chunkSize), sink);
  if (end) parser.end(sink);
  return out;
}

t.test('multiplexed: streams apart, pieces of a long line re-joined with the first piece’s time', async (t) => {
  const long = 'a'.repeat(DOCKER_PIECE_BYTES * 2 + 100);
  const input = Buffer.concat([
    frame(1, `${T1} ${long.slice(0, DOCKER_PIECE_BYTES)}`),
    frame(2, `${T2} an error\n`), // stderr between the pieces of a stdout line
    frame(1, `${T1} ${long.slice(DOCKER_PIECE_BYTES, DOCKER_PIECE_BYTES * 2)}`),
    frame(1, `${T1} ${long.slice(DOCKER_PIECE_BYTES * 2)}\n`),
    frame(1, `${T3} short\n`),
    frame(1, `${T3} \n`),
  ]);
  const expected: Parsed[] = [
    { stream: 'stderr', time: T2, line: 'an error', partial: false },
    { stream: 'stdout', time: T1, line: long, partial: false },
    { stream: 'stdout', time: T3, line: 'short', partial: false },
    { stream: 'stdout', time: T3, line: '', partial: false },
  ];
  for (const chunkSize of [input.length, 8192, 1000, 7, 1]) {
    t.same(parse(new MultiplexedLogParser(), input, chunkSize), expected, `in chunks of ${chunkSize}`);
  }
});

t.test('multiplexed: an unterminated last line is partial; a new time ends a line missing its newline', async (t) => {
  const input = Buffer.concat([
    // The `local` driver (Docker 20.10) drops the newline after a long line's last piece.
    frame(1, `${T1} ${'b'.repeat(DOCKER_PIECE_BYTES)}`),
    frame(1, `${T1} tail-of-long`),
    frame(1, `${T2} next\n`),
    frame(2, `${T3} no newline at exit`),
  ]);
  t.same(parse(new MultiplexedLogParser(), input), [
    { stream: 'stdout', time: T1, line: `${'b'.repeat(DOCKER_PIECE_BYTES)}tail-of-long`, partial: false },
    { stream: 'stdout', time: T2, line: 'next', partial: false },
    { stream: 'stderr', time: T3, line: 'no newline at exit', partial: true },
  ]);
});

t.test('multiplexed, `local` driver: a short piece without a newline ends its line at once', async (t) => {
  const input = Buffer.concat([
    frame(1, `${T1} ${'d'.repeat(DOCKER_PIECE_BYTES)}`),
    frame(1, `${T1} end-of-long`), // Docker 20.10's local driver: the newline is lost
  ]);
  t.same(
    parse(new MultiplexedLogParser(true), input, input.length, false),
    [{ stream: 'stdout', time: T1, line: `${'d'.repeat(DOCKER_PIECE_BYTES)}end-of-long`, partial: false }],
    'delivered without waiting for the next record',
  );
  t.same(parse(new MultiplexedLogParser(false), input, input.length, false), [], 'json-file: still a piece');
});

t.test('multiplexed: an in-band error frame (stream 3) is reported and nothing after it is parsed', async (t) => {
  const parser = new MultiplexedLogParser();
  const input = Buffer.concat([
    frame(1, `${T1} before\n`),
    frame(3, 'error from daemon in stream: Error grabbing logs: invalid character\n'),
    frame(1, `${T2} after\n`),
  ]);
  t.same(parse(parser, input, input.length, false), [{ stream: 'stdout', time: T1, line: 'before', partial: false }]);
  t.equal(parser.inBandError, 'error from daemon in stream: Error grabbing logs: invalid character');
});

t.test('multiplexed: bytes that are not UTF-8 pass through exactly', async (t) => {
  const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x1b, 0x5b, 0x6d]);
  const input = frame(1, Buffer.concat([Buffer.from(`${T1} `), bytes, Buffer.from('\n')]));
  const lines: Buffer[] = [];
  new MultiplexedLogParser().push(input, (_s, _t, line) => lines.push(Buffer.from(line)));
  t.ok(lines[0]!.equals(bytes));
});

t.test('TTY: CRLF kept as sent; Docker’s 16 KiB piece stamps dropped; other text left alone', async (t) => {
  const long = 'c'.repeat(DOCKER_PIECE_BYTES * 2 + 5);
  const input = Buffer.from(
    `${T1} hello\r\n` +
      `${T2} ${long.slice(0, DOCKER_PIECE_BYTES)}${T2} ${long.slice(DOCKER_PIECE_BYTES, 2 * DOCKER_PIECE_BYTES)}` +
      `${T2} ${long.slice(2 * DOCKER_PIECE_BYTES)}\r\n` +
      `${T3} a line that mentions ${T1} in it\r\n` +
      `${T3} unterminated`,
    'latin1',
  );
  const expected: Parsed[] = [
    { stream: 'stdout', time: T1, line: 'hello\r', partial: false },
    { stream: 'stdout', time: T2, line: `${long}\r`, partial: false },
    { stream: 'stdout', time: T3, line: `a line that mentions ${T1} in it\r`, partial: false },
    { stream: 'stdout', time: T3, line: 'unterminated', partial: true },
  ];
  for (const chunkSize of [input.length, 4096, 333, 1]) {
    t.same(parse(new TtyLogParser(), input, chunkSize), expected, `in chunks of ${chunkSize}`);
  }
});

t.test('untimed (asked with timestamps=0): the bytes are all content, pieces still re-joined', async (t) => {
  const long = 'a'.repeat(DOCKER_PIECE_BYTES * 2 + 7);
  // A line that starts like a timestamp is content here.
  const muxed = Buffer.concat([
    frame(1, long.slice(0, DOCKER_PIECE_BYTES)),
    frame(2, `${T1} not a stamp\n`),
    frame(1, long.slice(DOCKER_PIECE_BYTES, 2 * DOCKER_PIECE_BYTES)),
    frame(1, `${long.slice(2 * DOCKER_PIECE_BYTES)}\n`),
    frame(1, 'tail'),
  ]);
  const none = formatTimestamp(0n);
  for (const chunkSize of [muxed.length, 1000, 3]) {
    t.same(
      parse(new MultiplexedLogParser(false, false), muxed, chunkSize),
      [
        { stream: 'stderr', time: none, line: `${T1} not a stamp`, partial: false },
        { stream: 'stdout', time: none, line: long, partial: false },
        { stream: 'stdout', time: none, line: 'tail', partial: true },
      ],
      `multiplexed in chunks of ${chunkSize}`,
    );
  }
  const tty = Buffer.from(`${T1} hello\r\n${long}\r\nend`, 'latin1');
  t.same(parse(new TtyLogParser(false), tty, 777), [
    { stream: 'stdout', time: none, line: `${T1} hello\r`, partial: false },
    { stream: 'stdout', time: none, line: `${long}\r`, partial: false },
    { stream: 'stdout', time: none, line: 'end', partial: true },
  ]);
});

t.test("Docker's since/until query form", async (t) => {
  t.equal(toDockerTimeParam(1_700_000_000_000_000_005n), '1700000000.000000005');
  t.equal(toDockerTimeParam(0n), '0.000000000');
});

t.test(
  'the Docker query: timestamps and both streams always; from a cursor, a second before it and no tail',
  async (t) => {
    const now = 1_750_000_000_000_000_000n;
    const base: LogOptions = { follow: true, stdout: true, stderr: false };
    t.same(dockerLogsQuery({ ...base, tail: 0 }, undefined, now), {
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      tail: '0',
    });
    const after = decodeCursor('t1700000000000000005.2');
    if (after.kind !== 'time') throw new Error('a time cursor');
    t.same(dockerLogsQuery({ ...base, tail: 5, since: 1n, until: 1_800_000_000_000_000_000n, after }, after, now), {
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
      since: '1699999999.000000005', // a second early: the streams' entries are not in time order
      until: '1800000001.000000000', // a second later: `until` is applied to the records exactly
    });
    t.equal(
      dockerLogsQuery({ ...base, since: 1_720_000_000_000_000_000n }, after, now).since,
      '1720000000.000000000',
      'a since later than the cursor wins',
    );
    t.equal(
      dockerLogsQuery({ ...base, until: now - 1n }, undefined, now).follow,
      false,
      'an until already past: no follow',
    );
    t.equal(dockerLogsQuery({ ...base, until: now }, undefined, now).follow, true);
  },
);
