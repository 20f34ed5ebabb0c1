import { NS_PER_S, parseRfc3339, type UnixNanos } from '@enginegate/plugin-api';

/** `2006-01-02T15:04:05.000000000Z`: the fixed-width form Docker prefixes log lines with. */
const FIXED_WIDTH_LENGTH = 30;
const SECONDS_LENGTH = 19;
const DOT = 0x2e;
const ZULU = 0x5a;
const DIGIT_0 = 0x30;

/**
 * Parses the timestamp Docker puts in front of every log line (`timestamps=1`).
 *
 * Hundreds of thousands of lines a second share a handful of distinct seconds, so the
 * date-and-seconds part is parsed once (by plugin-api's `parseRfc3339`) and remembered;
 * only the nine fraction digits are read per line. Any other shape goes to `parseRfc3339`.
 */
export class DockerTimestampParser {
  private readonly cachedSeconds = Buffer.alloc(SECONDS_LENGTH);
  private cachedSecondsNs: UnixNanos | undefined;

  /** The time in `buf[start, end)`, or undefined when it is not an RFC3339 time. */
  parse(buf: Buffer, start: number, end: number): UnixNanos | undefined {
    if (end - start === FIXED_WIDTH_LENGTH && buf[start + SECONDS_LENGTH] === DOT && buf[end - 1] === ZULU) {
      const seconds = this.secondsOf(buf, start);
      const fraction = readNineDigits(buf, start + SECONDS_LENGTH + 1);
      if (seconds !== undefined && fraction !== undefined) return seconds + BigInt(fraction);
    }
    return parseRfc3339(buf.toString('latin1', start, end));
  }

  private secondsOf(buf: Buffer, start: number): UnixNanos | undefined {
    if (
      this.cachedSecondsNs !== undefined &&
      buf.compare(this.cachedSeconds, 0, SECONDS_LENGTH, start, start + SECONDS_LENGTH) === 0
    ) {
      return this.cachedSecondsNs;
    }
    const parsed = parseRfc3339(`${buf.toString('latin1', start, start + SECONDS_LENGTH)}Z`);
    if (parsed === undefined) return undefined;
    buf.copy(this.cachedSeconds, 0, start, start + SECONDS_LENGTH);
    this.cachedSecondsNs = parsed;
    return parsed;
  }
}

function readNineDigits(buf: Buffer, at: number): number | undefined {
  let value = 0;
  for (let i = at; i < at + 9; i++) {
    const digit = buf[i]! - DIGIT_0;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value;
}

/** Docker's `since`/`until` query form: `<seconds>.<nanoseconds>` (nine digits). */
export function toDockerTimeParam(ns: UnixNanos): string {
  let seconds = ns / NS_PER_S;
  let fraction = ns % NS_PER_S;
  if (fraction < 0n) {
    fraction += NS_PER_S;
    seconds -= 1n;
  }
  return `${seconds}.${fraction.toString().padStart(9, '0')}`;
}
