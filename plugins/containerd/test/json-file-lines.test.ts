// The json-file format reads the lines Docker and nerdctl write from their bytes, without
// JSON.parse, when their `log` has no escape but the final `\n`; every line must come out as
// JSON.parse reads it (the reference here), whichever path it takes.
import t from 'tap';
import { parseRfc3339 } from '@enginegate/plugin-api';
import { jsonFileFormat } from '../src/log-formats.js';
import { assertParsesAlikeInRange } from './fixtures/range-parse.js';

const TIME = '2026-01-02T15:04:05.123456789Z';

function reference(line: Buffer) {
  let entry: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    entry = JSON.parse(line.toString('utf8')) as typeof entry;
  } catch {
    return undefined;
  }
  if (typeof entry.log !== 'string' || (entry.stream !== 'stdout' && entry.stream !== 'stderr')) return undefined;
  const time = typeof entry.time === 'string' ? parseRfc3339(entry.time) : undefined;
  if (time === undefined) return undefined;
  const endsLine = entry.log.endsWith('\n');
  return {
    stream: entry.stream,
    time,
    content: Buffer.from(endsLine ? entry.log.slice(0, -1) : entry.log),
    endsLine,
  };
}

const line = (log: string, stream = 'stdout', time = TIME) =>
  Buffer.from(`{"log":"${log}","stream":"${stream}","time":"${time}"}`);

const cases: Array<[string, Buffer]> = [
  ['a whole line', line('hello world\\n')],
  ['a piece (no newline)', line('a piece of a long line')],
  ['stderr', line('oops\\n', 'stderr')],
  ['an empty line', line('\\n')],
  ['an empty piece', line('')],
  ['an escaped quote', line('say \\"hi\\"\\n')],
  ['a backslash, then n', line('C:\\\\new\\n')],
  ['a backslash at the end of the content', line('ends in \\\\\\n')],
  ['an escaped tab', line('a\\tb\\n')],
  ['a \\u escape', line('caf\\u00e9\\n')],
  ['raw UTF-8', line('café 日本語\\n')],
  ['a newline escape in the middle', line('two\\nlines\\n')],
  ['a time with an offset', line('x\\n', 'stdout', '2026-01-02T16:04:05.5+01:00')],
  ['a bad stream', line('x\\n', 'stdin')],
  ['a bad time', line('x\\n', 'stdout', 'yesterday')],
  ['keys in another order', Buffer.from(`{"stream":"stdout","log":"x\\n","time":"${TIME}"}`)],
  ['an attrs key after time', Buffer.from(`{"log":"x\\n","stream":"stdout","time":"${TIME}","attrs":{"a":"b"}}`)],
  ['a cut line', Buffer.from(`{"log":"x\\n","stream":"stdout","ti`)],
  ['not JSON', Buffer.from('hello')],
  ['a raw control character (invalid JSON)', line('a\u0001b\\n')],
  ['invalid UTF-8', Buffer.concat([Buffer.from('{"log":"bad '), Buffer.from([0xff, 0xfe]), line('\\n').subarray(8)])],
];

for (const [name, bytes] of cases) {
  t.test(name, async (t) => {
    const got = jsonFileFormat.parse(bytes);
    const want = reference(bytes);
    if (want === undefined) return void t.equal(got, undefined, 'skipped as JSON.parse skips it');
    t.ok(got, 'read');
    t.equal(got!.stream, want.stream, 'stream');
    t.equal(got!.time, want.time, 'time');
    t.equal(got!.endsLine, want.endsLine, 'endsLine');
    t.equal(got!.content.toString('hex'), want.content.toString('hex'), 'content bytes');
  });
}

// The log file reader hands the parser a line as a range of its 64 KiB chunk: the bytes around
// it (quotes, backslashes, braces of the lines before and after) must change nothing.
t.test('a line read as a range of a larger buffer reads as the line alone', async (t) => {
  const before = Buffer.from('{"log":"\\"}\n');
  const after = Buffer.from('\n\\"x" \\n"}');
  assertParsesAlikeInRange(t, jsonFileFormat, cases, before, after);
});

t.test("Docker's usual line is read in place, without a copy", async (t) => {
  const bytes = line('hello world\\n');
  const got = jsonFileFormat.parse(bytes)!;
  t.equal(got.content.buffer, bytes.buffer, 'the content is a view of the line');
  t.equal(got.content.toString(), 'hello world');
});
