import { InvalidArgumentError } from './errors.js';
import { quoteInput } from './input-echo.js';
import type { UnixNanos } from './time.js';

/**
 * A cursor names one record so that `after=<cursor>` resumes right behind it.
 *
 * - `TimeCursor` (`t<ns>.<seq>`, or `t<ns>.<seq>@<detail>`): the record's time plus its index
 *   among the records that share that exact time. Engines that can seek by time (Docker's
 *   `since` is inclusive) resume by asking from `time` and skipping `seq + 1` records stamped
 *   `time`. Ties are common: Docker stamps every 16 KiB piece of a long line alike. An engine
 *   whose times alone cannot place a record (Podman's have whole seconds only) adds its own
 *   `detail`; any other engine resumes from such a cursor by its time, as from its own.
 * - `ByteCursor` (`b<offset>` or `b<offset>@<file>`): a byte position, for logs without times.
 */
export type Cursor = TimeCursor | ByteCursor;
export interface TimeCursor {
  kind: 'time';
  time: UnixNanos;
  seq: number;
  /** The position as the engine that made the cursor knows it; opaque to every other engine. */
  detail?: string;
}
export interface ByteCursor {
  kind: 'byte';
  offset: number;
  /** Identifies the file the offset belongs to (e.g. device:inode), when it matters. */
  file?: string;
}

export function encodeTimeCursor(time: UnixNanos, seq: number, detail?: string): string {
  return detail === undefined ? `t${time}.${seq}` : `t${time}.${seq}@${detail}`;
}

export function encodeByteCursor(offset: number, file?: string): string {
  return file === undefined ? `b${offset}` : `b${offset}@${file}`;
}

/** The text form of a decoded cursor: `encodeCursor(decodeCursor(text)) === text`. */
export function encodeCursor(cursor: Cursor): string {
  return cursor.kind === 'time'
    ? encodeTimeCursor(cursor.time, cursor.seq, cursor.detail)
    : encodeByteCursor(cursor.offset, cursor.file);
}

const TIME_CURSOR = /^t(\d{1,22})\.(\d{1,9})(?:@([A-Za-z0-9:._-]{1,64}))?$/;
const BYTE_CURSOR = /^b(\d{1,16})(?:@([A-Za-z0-9:._-]{1,128}))?$/;

export function decodeCursor(text: string): Cursor {
  const t = TIME_CURSOR.exec(text);
  if (t) {
    const cursor: TimeCursor = { kind: 'time', time: BigInt(t[1]!), seq: Number(t[2]) };
    if (t[3] !== undefined) cursor.detail = t[3];
    return cursor;
  }
  const b = BYTE_CURSOR.exec(text);
  if (b) {
    const cursor: ByteCursor = { kind: 'byte', offset: Number(b[1]) };
    if (b[2] !== undefined) cursor.file = b[2];
    return cursor;
  }
  throw new InvalidArgumentError('after', `after=${quoteInput(text)} is not a cursor returned by this gateway`);
}

/**
 * Numbers records that share a time, in the order the engine delivers them, and gives each its
 * cursor. Feed it every record of one selection in order, from a point where no earlier record
 * had the same time (a `since` that is inclusive guarantees that).
 */
export class TimeCursorSequencer {
  private lastTime: UnixNanos = -1n;
  private seq = 0;

  next(time: UnixNanos): { seq: number; cursor: string } {
    const seq = this.advance(time);
    return { seq, cursor: encodeTimeCursor(time, seq) };
  }

  /** The next record's seq alone, for a caller that makes its cursor only when it needs one. */
  advance(time: UnixNanos): number {
    if (time === this.lastTime) {
      this.seq += 1;
    } else {
      this.lastTime = time;
      this.seq = 0;
    }
    return this.seq;
  }
}

/**
 * Drops the records up to and including the one a `TimeCursor` names. Use it together with a
 * `TimeCursorSequencer` fed from the same records.
 */
export function isAfterCursor(after: TimeCursor, time: UnixNanos, seq: number): boolean {
  return time > after.time || (time === after.time && seq > after.seq);
}
