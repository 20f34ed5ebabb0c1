// The JSON framing writes line records by hand for speed: they must parse to exactly what
// JSON.stringify of the record object would give, escaping included.
import t from 'tap';
import { formatTimestamp, type LineRecord } from '@enginegate/plugin-api';
import { jsonRecord } from '../src/logs/log-framing.js';

function expected(record: LineRecord): unknown {
  const time = record.time === null ? null : formatTimestamp(record.time);
  const body = Buffer.from(record.line).toString('utf8');
  const utf8 = Buffer.from(body, 'utf8').equals(record.line);
  return {
    type: 'line',
    stream: record.stream,
    time,
    ...(utf8 ? { line: body } : { base64: record.line.toString('base64') }),
    cursor: record.cursor,
    ...(record.partial ? { partial: true } : {}),
  };
}

t.test('hand-written line records equal JSON.stringify of the record', async (t) => {
  const lines = [
    'plain',
    '',
    'quotes " and backslash \\ and tab \t and newline-free control \u0001',
    'unicode é € 𝄞 and separators \u2028 \u2029',
    '<script>alert(1)</script>',
  ].map((s) => Buffer.from(s));
  lines.push(Buffer.from([0xff, 0xfe, 0x41]), Buffer.from([0xc3]));
  // Every byte alone and inside plain ASCII: the plain-ASCII fast path ends exactly where it must.
  for (let byte = 0; byte < 256; byte++) lines.push(Buffer.from([0x61, byte, 0x7e]));
  for (const [i, line] of lines.entries()) {
    const record: LineRecord = {
      type: 'line',
      stream: i % 2 ? 'stderr' : 'stdout',
      time: i === 3 ? null : 1704207845123456789n + BigInt(i),
      line,
      cursor: i === 3 ? `b${i}@2049:7` : `t1704207845123456789.${i}`,
      ...(i === 2 ? { partial: true } : {}),
    };
    const text = jsonRecord(record);
    t.same(JSON.parse(text), expected(record), JSON.stringify(line.toString('latin1')));
    t.equal(text, JSON.stringify(expected(record)), 'byte-identical to JSON.stringify');
  }
});
