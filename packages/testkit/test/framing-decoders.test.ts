import t from 'tap';
import {
  FramingError,
  decodeBinaryMessages,
  decodeJsonMessages,
  decodeNdjson,
  decodeRawMessages,
  decodeTextMessages,
} from '@enginegate/testkit';

// The decoders are the suite's eyes: each must refuse what its framing forbids.
const text = (s: string) => ({ data: Buffer.from(s), isBinary: false, at: 0 });
const binary = (b: Buffer | number[]) => ({ data: Buffer.from(b), isBinary: true, at: 0 });
const line = (fields: Record<string, unknown>) =>
  text(
    JSON.stringify({
      type: 'line',
      stream: 'stdout',
      time: '2024-01-02T15:04:05.123456789Z',
      cursor: 't1.0',
      ...fields,
    }),
  );

t.test('JSON: lines, base64 lines and control records decode', async (t) => {
  t.same(decodeJsonMessages([line({ line: 'hi ✓' }), line({ base64: '/w==' }), text('{"type":"exit","exitCode":3}')]), [
    {
      type: 'line',
      stream: 'stdout',
      bytes: Buffer.from('hi ✓'),
      time: '2024-01-02T15:04:05.123456789Z',
      cursor: 't1.0',
    },
    {
      type: 'line',
      stream: 'stdout',
      bytes: Buffer.from([0xff]),
      time: '2024-01-02T15:04:05.123456789Z',
      cursor: 't1.0',
    },
    { type: 'exit', exitCode: 3 },
  ]);
});

t.test('JSON: what the framing forbids is a FramingError', async (t) => {
  const bad: Array<[ReturnType<typeof text>, RegExp]> = [
    [binary(Buffer.from('{}')), /binary message/],
    [text('not json'), /not JSON/],
    [line({ line: 'x', base64: 'eA==' }), /exactly one of/],
    [line({ base64: Buffer.from('valid').toString('base64') }), /carries valid UTF-8/],
    [line({ line: 'x', time: '2024-01-02T15:04:05Z' }), /neither null nor/],
    [line({ line: 'x', cursor: '' }), /no cursor/],
    [line({ line: 'x', stream: 'stdin' }), /stream is "stdin"/],
    [text('{"type":"exit"}'), /integer exitCode/],
    [text('{"type":"party"}'), /unknown type/],
  ];
  for (const [message, expected] of bad)
    t.throws(() => decodeJsonMessages([message]), { name: 'FramingError', message: expected }, expected.source);
});

t.test('binary: stream byte then exact bytes; control objects after byte 3', async (t) => {
  t.same(
    decodeBinaryMessages([
      binary([1, 0x61]),
      binary([2, 0xff]),
      binary([3, ...Buffer.from('{"type":"exit","exitCode":0}')]),
    ]),
    [
      { type: 'line', stream: 'stdout', bytes: Buffer.from('a') },
      { type: 'line', stream: 'stderr', bytes: Buffer.from([0xff]) },
      { type: 'exit', exitCode: 0 },
    ],
  );
  t.throws(() => decodeBinaryMessages([binary([4, 0x61])]), FramingError);
  t.throws(() => decodeBinaryMessages([binary([])]), FramingError);
  t.throws(() => decodeBinaryMessages([text('a')]), FramingError);
});

t.test('text: one line per text message, no newline; raw: binary bytes', async (t) => {
  t.same(decodeTextMessages([text('a'), text('')]), ['a', '']);
  t.throws(() => decodeTextMessages([text('a\nb')]), { message: /holds a newline/ });
  t.throws(() => decodeTextMessages([binary([0x61])]), FramingError);
  t.same(decodeRawMessages([binary(Buffer.from('a\nb')), binary(Buffer.from('\n'))]), Buffer.from('a\nb\n'));
  t.throws(() => decodeRawMessages([text('a\n')]), FramingError);
});

t.test('NDJSON: newline-terminated objects', async (t) => {
  t.same(decodeNdjson(Buffer.from('{"type":"gap","reason":"rotated"}\n')), [{ type: 'gap', reason: 'rotated' }]);
  t.throws(() => decodeNdjson(Buffer.from('{"type":"gap","reason":"rotated"}')), {
    message: /does not end with a newline/,
  });
  t.same(decodeNdjson(Buffer.alloc(0)), []);
});
