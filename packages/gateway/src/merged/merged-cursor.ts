import { decodeCursor, InvalidArgumentError, nowNanos, type Cursor, type UnixNanos } from '@enginegate/plugin-api';
import { MEMBER_KEY_LENGTH } from './member.js';

/**
 * A cursor of a whole merged stream: `m<time>` and then, for each member, `~<member key>` and
 * that member's own cursor once it has sent a line, or a mark before: NOTHING_YET (it was a
 * member, sent nothing up to `time`: it resumes from `time` on) or FROM_START (it joined and
 * has not sent a line yet: its lines may be stamped before `time`). A member the cursor does
 * not name at all joined after it was taken, and resumes from its first line too: a joined
 * member's history comes after its join in the stream, whatever its lines' times.
 */
export interface MergedCursor {
  time: UnixNanos;
  /** Member key → that member's own cursor, as its engine made it, or a mark before its first line. */
  positions: ReadonlyMap<string, string>;
}

/** A member's mark before its first line: it resumes from the cursor's time on. */
export const NOTHING_YET = '';
/** A member's mark before its first line: it resumes from its own first line. */
export const FROM_START = '*';
/**
 * A member's mark once its live stream opened (at `s<time>`) with nothing sent: live lines of
 * different members arrive out of time order, so it resumes from that time, not the cursor's.
 */
const LIVE_SINCE = /^s(\d{1,22})$/;

const isMark = (position: string | undefined) =>
  position === NOTHING_YET || position === FROM_START || LIVE_SINCE.test(position ?? '');

/** The time a LIVE_SINCE mark names, if `position` is one. */
export function liveSince(position: string | undefined): UnixNanos | undefined {
  const match = LIVE_SINCE.exec(position ?? '');
  return match ? BigInt(match[1]!) : undefined;
}

const HEAD = /^m(\d{1,22})$/;
const KEY = new RegExp(`^[A-Za-z0-9_-]{${MEMBER_KEY_LENGTH}}$`);

export function isMergedCursor(text: string): boolean {
  return text.startsWith('m');
}

function invalid(text: string): InvalidArgumentError {
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return new InvalidArgumentError(
    'after',
    `after=${JSON.stringify(shown)} is not a merged cursor returned by this gateway`,
  );
}

/**
 * Reads a merged cursor; each member's position is checked with the single-container cursor
 * decoder and kept as its text, so that an engine gets back exactly what it made.
 */
export function decodeMergedCursor(text: string): MergedCursor {
  const [head, ...entries] = text.split('~');
  const time = HEAD.exec(head ?? '');
  if (!time) throw invalid(text);
  const positions = new Map<string, string>();
  for (const entry of entries) {
    const key = entry.slice(0, MEMBER_KEY_LENGTH);
    const cursor = entry.slice(MEMBER_KEY_LENGTH);
    if (!KEY.test(key) || positions.has(key)) throw invalid(text);
    try {
      if (!isMark(cursor)) decodeCursor(cursor);
    } catch {
      throw invalid(text);
    }
    positions.set(key, cursor);
  }
  return { time: BigInt(time[1]!), positions };
}

/** A member's own cursor, decoded, from a merged cursor's positions. */
export function memberPosition(cursor: MergedCursor, key: string): Cursor | undefined {
  const text = cursor.positions.get(key);
  return text === undefined || isMark(text) ? undefined : decodeCursor(text);
}

/**
 * The positions of a merged stream as it sends its records: `advance` records a member's line
 * and returns the merged cursor that names it.
 */
export class MergedPositions {
  private readonly positions = new Map<string, string>();

  constructor(from?: MergedCursor) {
    for (const [key, cursor] of from?.positions ?? []) this.positions.set(key, cursor);
  }

  /** The position of one member, if it has sent a line (in this stream or the one resumed). */
  of(key: string): string | undefined {
    const position = this.positions.get(key);
    return isMark(position) ? undefined : position;
  }

  /** Members that have sent nothing when their live streams open at `time`: from then on. */
  liveFrom(keys: Iterable<string>, time: UnixNanos): void {
    for (const key of keys) if (this.positions.get(key) === NOTHING_YET) this.positions.set(key, `s${time}`);
  }

  /** Names a member in the cursors from now on, with `mark` until its first line. */
  enter(key: string, mark: typeof NOTHING_YET | typeof FROM_START): void {
    if (!this.positions.has(key)) this.positions.set(key, mark);
  }

  advance(key: string, cursor: string, time: UnixNanos | null): string {
    this.positions.set(key, cursor);
    return encodeMergedCursor({ time: time ?? nowNanos(), positions: this.positions });
  }
}

export function encodeMergedCursor(cursor: MergedCursor): string {
  let text = `m${cursor.time}`;
  for (const [key, position] of cursor.positions) text += `~${key}${position}`;
  return text;
}
