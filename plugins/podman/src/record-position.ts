import { encodeTimeCursor, type TimeCursor, type UnixNanos } from '@enginegate/plugin-api';

/**
 * Where a record sits in a container's log as Podman gives it back: Podman's log is a sequence
 * of entries (conmon's reads: a line, or an 8 KiB piece of one), each stamped with a time that
 * the libpod API (4.x) rounds down to the second. Any read from a time on returns every entry
 * stamped from it, in the log's order; so an entry is named by its time and its index among the
 * entries stamped alike, and a record by its entry and its index among that entry's records.
 */
export interface RecordPosition {
  /** The time of the entry that completed (or cut) the record. */
  instant: UnixNanos;
  /** Its index among the entries stamped `instant`. */
  entry: number;
  /** The record's index among those its entry produced; FLUSH_* for lines without an end, flushed when a read ended. */
  k: number;
  /**
   * How far before `instant` a read must start to rebuild the lines still open behind this
   * record (a partial line started earlier on either stream, or the rest of a cut line): 0
   * when none is open.
   */
  back: UnixNanos;
}

/** `k` of the unterminated stdout line flushed at the end of a read. */
export const FLUSH_STDOUT = 1_000_001;
/** `k` of the unterminated stderr line flushed at the end of a read, stdout's not (there was none). */
export const FLUSH_STDERR = 1_000_002;
/** `k` of the unterminated stderr line flushed right after stdout's. */
export const FLUSH_BOTH = 1_000_003;

/** Which streams' open lines a resume drops at the position (they were delivered, unterminated). */
export function flushedStreams(k: number): { stdout: boolean; stderr: boolean } {
  return { stdout: k === FLUSH_STDOUT || k === FLUSH_BOTH, stderr: k === FLUSH_STDERR || k === FLUSH_BOTH };
}

/** Orders positions as the records came: by entry, then by record within it. */
export function comparePositions(a: RecordPosition, b: RecordPosition): number {
  if (a.instant !== b.instant) return a.instant < b.instant ? -1 : 1;
  if (a.entry !== b.entry) return a.entry - b.entry;
  return a.k - b.k;
}

/** True when `position`'s entry comes after the entry `of` names. */
export function entryAfter(position: { instant: UnixNanos; entry: number }, of: RecordPosition): boolean {
  return position.instant > of.instant || (position.instant === of.instant && position.entry > of.entry);
}

const DETAIL = /^pm(\d{1,19})\.(\d{1,7})\.(\d{1,19})$/;

/**
 * The cursor of a record: a plugin-api time cursor whose time is the record's own (so that any
 * other engine resumes from it by time) and whose `detail` (`pm<instant-time>.<k>.<back>`,
 * `seq` = the entry index) places it exactly for this plugin.
 */
export function encodeRecordCursor(time: UnixNanos, position: RecordPosition): string {
  return encodeTimeCursor(time, position.entry, `pm${position.instant - time}.${position.k}.${position.back}`);
}

/** The position a cursor of this plugin names, or undefined for any other time cursor. */
export function decodeRecordCursor(cursor: TimeCursor): RecordPosition | undefined {
  const m = cursor.detail === undefined ? null : DETAIL.exec(cursor.detail);
  if (!m) return undefined;
  return { instant: cursor.time + BigInt(m[1]!), entry: cursor.seq, k: Number(m[2]), back: BigInt(m[3]!) };
}
