import { parseRfc3339, type UnixNanos } from './time.js';

const LETTER_Z = 0x5a;
const DOT = 0x2e;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * `parseRfc3339` (plugin-api) made cheap for logs: consecutive lines are mostly stamped within
 * the same second in UTC (`…T15:04:05.123456789Z`), so the second is parsed once, by
 * `parseRfc3339`, and each line only adds its fraction. Any other form goes to `parseRfc3339`.
 */
export class TimestampParser {
  private readonly second = Buffer.alloc(19);
  private secondText = '';
  private secondKnown = false;
  private secondNs = 0n;

  parse(buf: Buffer, start: number, end: number): UnixNanos | undefined {
    const len = end - start;
    if (this.secondKnown && len >= 20 && len <= 30 && buf[end - 1] === LETTER_Z && this.sameSecond(buf, start)) {
      if (len === 20) return this.secondNs;
      if (buf[start + 19] === DOT && len > 21) {
        let fraction = 0;
        for (let i = start + 20; i < end - 1; i++) {
          const digit = buf[i]! - 48;
          if (digit < 0 || digit > 9) return this.slowPath(buf, start, end);
          fraction = fraction * 10 + digit;
        }
        return this.secondNs + BigInt(fraction * POW10[9 - (len - 21)]!);
      }
    }
    return this.slowPath(buf, start, end);
  }

  /**
   * The 19 bytes at `start` spell the cached second. A loop, from the seconds backwards (where
   * consecutive times differ): `buf.compare` with offsets validates its five arguments natively
   * and cost twice the rest of the fast path.
   */
  private sameSecond(buf: Buffer, start: number): boolean {
    const second = this.second;
    for (let i = 18; i >= 0; i--) if (buf[start + i] !== second[i]) return false;
    return true;
  }

  /** The same for a time already decoded into a string (json-file's `time`). */
  parseText(text: string): UnixNanos | undefined {
    const len = text.length;
    if (
      this.secondKnown &&
      len >= 20 &&
      len <= 30 &&
      text.charCodeAt(len - 1) === LETTER_Z &&
      text.startsWith(this.secondText)
    ) {
      if (len === 20) return this.secondNs;
      if (text.charCodeAt(19) === DOT && len > 21) {
        let fraction = 0;
        for (let i = 20; i < len - 1; i++) {
          const digit = text.charCodeAt(i) - 48;
          if (digit < 0 || digit > 9) return this.remember(text);
          fraction = fraction * 10 + digit;
        }
        return this.secondNs + BigInt(fraction * POW10[9 - (len - 21)]!);
      }
    }
    return this.remember(text);
  }

  private slowPath(buf: Buffer, start: number, end: number): UnixNanos | undefined {
    return this.remember(buf.toString('latin1', start, end));
  }

  /** Full parse; a UTC time also becomes the cached second. */
  private remember(text: string): UnixNanos | undefined {
    const ns = parseRfc3339(text);
    if (ns !== undefined && text.length >= 20 && text.charCodeAt(text.length - 1) === LETTER_Z) {
      const secondNs = parseRfc3339(`${text.slice(0, 19)}Z`);
      if (secondNs !== undefined) {
        this.secondText = text.slice(0, 19);
        this.second.write(this.secondText, 'latin1');
        this.secondNs = secondNs;
        this.secondKnown = true;
      }
    }
    return ns;
  }
}
