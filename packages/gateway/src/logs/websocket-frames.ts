/**
 * A batch of messages as server-to-client WebSocket frames (RFC 6455 §5.2: FIN set, unmasked,
 * no extension bits) in one buffer: strings as text frames, Buffers as binary frames. Written
 * with one socket write, a thousand one-line messages cost one copy instead of two buffers and
 * a callback each through ws's sender.
 */
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const FIN = 0x80;

function headerBytes(payloadBytes: number): number {
  return payloadBytes > 0xffff ? 10 : payloadBytes > 125 ? 4 : 2;
}

/** `byteLengths[i]` is the UTF-8 length of `messages[i]` (a Buffer's own length for Buffers). */
export function encodeFrames(messages: ReadonlyArray<Buffer | string>, byteLengths: readonly number[]): Buffer {
  let total = 0;
  for (const length of byteLengths) total += headerBytes(length) + length;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const length = byteLengths[i]!;
    out[at] = FIN | (typeof message === 'string' ? OPCODE_TEXT : OPCODE_BINARY);
    if (length > 0xffff) {
      out[at + 1] = 127;
      out.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2);
      out.writeUInt32BE(length >>> 0, at + 6);
    } else if (length > 125) {
      out[at + 1] = 126;
      out.writeUInt16BE(length, at + 2);
    } else {
      out[at + 1] = length;
    }
    at += headerBytes(length);
    if (typeof message === 'string') out.write(message, at, length, 'utf8');
    else message.copy(out, at);
    at += length;
  }
  return out;
}
