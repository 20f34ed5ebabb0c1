// encodeFrames against ws's own frame parser (the Receiver a ws client reads with): every
// message comes back whole, text as text and binary as binary, at each payload-length form
// (7-bit, 16-bit, 64-bit), empty ones and multi-byte UTF-8 included.
import t from 'tap';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import { encodeFrames } from '../src/logs/websocket-frames.js';

// ws's frame parser (ws.Receiver): a Writable that emits 'message'; @types/ws leaves it out.
type ReceiverClass = new (options: { isServer: boolean; maxPayload: number }) => Writable;
const { Receiver } = createRequire(import.meta.url)('ws') as { Receiver: ReceiverClass };

function decode(frames: Buffer): Array<{ data: Buffer; isBinary: boolean }> {
  const receiver = new Receiver({ isServer: false, maxPayload: 1 << 20 });
  const got: Array<{ data: Buffer; isBinary: boolean }> = [];
  receiver.on('message', (data: Buffer, isBinary: boolean) => got.push({ data, isBinary }));
  receiver.on('error', (err: Error) => {
    throw err;
  });
  // Byte by byte at the lengths' edges would be slow; two writes split mid-frame is enough.
  const cut = Math.floor(frames.length / 3);
  receiver.write(frames.subarray(0, cut));
  receiver.write(frames.subarray(cut));
  return got;
}

t.test('every length form, text and binary, round-trips through ws', async (t) => {
  const messages: Array<Buffer | string> = [
    '',
    'hello',
    'x'.repeat(125),
    'y'.repeat(126),
    'ü'.repeat(40_000), // 80,000 bytes: the 64-bit length form
    Buffer.alloc(0),
    Buffer.from([1, 0xff, 0]),
    Buffer.alloc(65_535, 7),
    Buffer.alloc(65_536, 9),
    '日本語のログ行',
  ];
  const lengths = messages.map((m) => (typeof m === 'string' ? Buffer.byteLength(m) : m.length));
  const got = decode(encodeFrames(messages, lengths));
  t.equal(got.length, messages.length, 'one message per frame');
  messages.forEach((m, i) => {
    t.equal(got[i]!.isBinary, typeof m !== 'string', `message ${i}: ${typeof m === 'string' ? 'text' : 'binary'}`);
    t.ok(got[i]!.data.equals(typeof m === 'string' ? Buffer.from(m) : m), `message ${i}: same bytes`);
  });
});

t.test('the frames are exactly headers plus payloads, nothing between', async (t) => {
  const frames = encodeFrames(['ab', Buffer.from('c')], [2, 1]);
  t.same([...frames], [0x81, 2, 0x61, 0x62, 0x82, 1, 0x63]);
});
