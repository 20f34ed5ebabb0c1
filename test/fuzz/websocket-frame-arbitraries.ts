// Client WebSocket frames as an attacker writes them (RFC 6455 §5.2 and every way to break it):
// text, binary, ping, pong and close frames with random payloads, bad close codes, invalid UTF-8
// in a text message or a close reason, unmasked frames, reserved opcodes and RSV bits,
// fragmented messages (whole, interleaved with pings, or broken), payloads over the 4 KiB limit
// and lengths that lie. Each frame keeps the text it carries, for the echo check of the log.
import fc from 'fast-check';
import { anyText, oversized } from './input-arbitraries.js';

export interface FuzzFrame {
  fin: boolean;
  /** RSV1–3 as the three bits under FIN. */
  rsv: number;
  opcode: number;
  masked: boolean;
  payload: Buffer;
  /** The payload length the header claims, when it is not the payload's own (a lie). */
  claimedLength?: bigint;
  /** What the frame is, for a report. */
  what: string;
}

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

const frame = (opcode: number, payload: Buffer, what: string, rest: Partial<FuzzFrame> = {}): FuzzFrame => ({
  fin: true,
  rsv: 0,
  opcode,
  masked: true,
  payload,
  what,
  ...rest,
});

/** Valid UTF-8 of every size, around the 4 KiB message limit too. */
const utf8Text = fc.oneof(
  { arbitrary: anyText, weight: 4 },
  { arbitrary: fc.constantFrom(4095, 4096, 4097).map((n) => 'a'.repeat(n)), weight: 1 },
);
/** Bytes that are not UTF-8: a lone continuation byte, an overlong form, a surrogate, a cut sequence. */
const invalidUtf8 = fc
  .tuple(
    fc.string({ maxLength: 20 }),
    fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff]),
  )
  .map(([text, bad]) => Buffer.concat([Buffer.from(text), Buffer.from(bad)]));
const randomBytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes));

/** Close codes valid (as a client may send them) and not: reserved, unassigned, out of range. */
const closeCode = fc.oneof(
  fc.constantFrom(1000, 1001, 1003, 1007, 1008, 1011, 3000, 4000, 4999),
  fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535),
  fc.integer({ min: 0, max: 65535 }),
);
const closeFrame = fc.oneof(
  fc
    .tuple(
      closeCode,
      fc.oneof(
        fc.string({ maxLength: 40 }).map((s) => Buffer.from(s)),
        invalidUtf8,
      ),
    )
    .map(([code, reason]) => {
      const payload = Buffer.concat([Buffer.from([code >> 8, code & 255]), reason]);
      return frame(OPCODE.close, payload, `close ${code}`);
    }),
  fc.constantFrom(Buffer.alloc(0), Buffer.from([3])).map((p) => frame(OPCODE.close, p, `close of ${p.length} bytes`)),
  // A control frame's payload is at most 125 bytes.
  randomBytes(300).map((p) => frame(OPCODE.close, Buffer.concat([Buffer.from([3, 232]), p]), 'close, long reason')),
);

const dataFrame = fc.oneof(
  utf8Text.map((text) => frame(OPCODE.text, Buffer.from(text), 'text')),
  invalidUtf8.map((bytes) => frame(OPCODE.text, bytes, 'text, invalid UTF-8')),
  randomBytes(5000).map((bytes) => frame(OPCODE.binary, bytes, 'binary')),
  oversized.map((text) => frame(OPCODE.text, Buffer.from(text), 'text, oversized')),
);
const controlFrame = fc.oneof(
  fc
    .tuple(fc.constantFrom(OPCODE.ping, OPCODE.pong), randomBytes(140))
    .map(([opcode, p]) => frame(opcode, p, opcode === OPCODE.ping ? `ping of ${p.length}` : `pong of ${p.length}`)),
  closeFrame,
);

/** One message in 2–6 fragments, sometimes a ping between them, sometimes broken. */
const fragmented = fc
  .tuple(
    fc.oneof(
      utf8Text.map((text) => Buffer.from(text)),
      invalidUtf8,
    ),
    fc.integer({ min: 2, max: 6 }),
    fc.constantFrom('whole', 'ping between', 'no first', 'no last', 'new message inside', 'control not final'),
  )
  .map(([bytes, count, how]) => {
    const size = Math.ceil(bytes.length / count) || 1;
    const parts = Array.from({ length: count }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
    const frames = parts.map((part, i) =>
      frame(i === 0 ? OPCODE.text : OPCODE.continuation, part, `fragment ${i + 1}/${count} (${how})`, {
        fin: i === count - 1,
      }),
    );
    if (how === 'ping between') frames.splice(1, 0, frame(OPCODE.ping, Buffer.from('p'), 'ping between fragments'));
    if (how === 'no first') frames.shift();
    if (how === 'no last') frames.pop();
    if (how === 'new message inside') frames.splice(1, 0, frame(OPCODE.binary, Buffer.from('x'), 'binary inside'));
    if (how === 'control not final')
      frames.push(frame(OPCODE.ping, Buffer.alloc(0), 'fragmented ping', { fin: false }));
    return frames;
  });

/** A frame broken at the header: reserved opcode, RSV bits, unmasked, a lying length. */
const brokenFrame = fc.oneof(
  fc
    .tuple(fc.constantFrom(3, 4, 5, 6, 7, 11, 12, 13, 14, 15), randomBytes(20))
    .map(([opcode, p]) => frame(opcode, p, `reserved opcode ${opcode}`)),
  fc.tuple(fc.integer({ min: 1, max: 7 }), dataFrame).map(([rsv, f]) => ({ ...f, rsv, what: `${f.what}, RSV ${rsv}` })),
  fc.oneof(dataFrame, controlFrame).map((f) => ({ ...f, masked: false, what: `${f.what}, unmasked` })),
  fc
    .tuple(
      fc.constantFrom(2n ** 63n, 2n ** 53n, 2n ** 32n, 100_000n, 4097n, 126n, 65_536n),
      fc.constantFrom(OPCODE.text, OPCODE.binary, OPCODE.ping),
      randomBytes(64),
    )
    .map(([length, opcode, p]) =>
      frame(opcode, p, `length ${length} claimed, ${p.length} sent`, { claimedLength: length }),
    ),
);

/** A sequence of frames a client sends after its upgrade. */
export const frameSequence: fc.Arbitrary<FuzzFrame[]> = fc
  .array(
    fc.oneof(
      { arbitrary: dataFrame.map((f) => [f]), weight: 4 },
      { arbitrary: controlFrame.map((f) => [f]), weight: 3 },
      { arbitrary: fragmented, weight: 2 },
      { arbitrary: brokenFrame.map((f) => [f]), weight: 2 },
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((groups) => groups.flat());

/** One frame's bytes: header (7-, 16- or 64-bit length), mask key, payload masked. */
export function encodeFrame(f: FuzzFrame): Buffer {
  const length = f.claimedLength ?? BigInt(f.payload.length);
  const lengthBytes = length > 0xffffn ? 8 : length > 125n ? 2 : 0;
  const head = Buffer.alloc(2 + lengthBytes + (f.masked ? 4 : 0));
  head[0] = (f.fin ? 0x80 : 0) | ((f.rsv & 7) << 4) | (f.opcode & 15);
  head[1] = (f.masked ? 0x80 : 0) | (lengthBytes === 8 ? 127 : lengthBytes === 2 ? 126 : Number(length));
  if (lengthBytes === 2) head.writeUInt16BE(Number(length), 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(length, 2);
  if (!f.masked) return Buffer.concat([head, f.payload]);
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  key.copy(head, 2 + lengthBytes);
  const payload = Buffer.from(f.payload);
  for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
  return Buffer.concat([head, payload]);
}

/** The close codes of the well-formed close frames in `frames`, which the server may echo. */
export function sentCloseCodes(frames: readonly FuzzFrame[]): number[] {
  return frames
    .filter((f) => f.opcode === OPCODE.close && f.payload.length >= 2 && f.claimedLength === undefined)
    .map((f) => f.payload.readUInt16BE(0));
}

/** What of the frames the log may not repeat more than 64 characters of. */
export function frameInputs(frames: readonly FuzzFrame[]): string[] {
  return frames.filter((f) => f.payload.length > 64).map((f) => f.payload.toString('utf8'));
}
