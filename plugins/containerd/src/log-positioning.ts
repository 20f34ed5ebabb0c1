import type { StreamName, UnixNanos } from '@enginegate/plugin-api';
import type { LogFileFormat } from './log-formats.js';
import type { LogSegment } from './log-segments.js';

/**
 * Finding where to start reading a log — for `tail`, `since` and `after` — without reading the
 * whole log: `tail` reads backwards in blocks, `since` binary-searches byte offsets.
 */

/** A byte offset in the `index`-th segment (oldest first) of a log. */
export interface SegmentPosition {
  index: number;
  offset: number;
}

export function comparePositions(a: SegmentPosition, b: SegmentPosition): number {
  return a.index - b.index || a.offset - b.offset;
}

export function laterPosition(a: SegmentPosition, b: SegmentPosition): SegmentPosition {
  return comparePositions(a, b) >= 0 ? a : b;
}

const BLOCK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

interface PhysicalLine {
  /** Offset of the line's first byte. */
  start: number;
  /** Offset just past its newline. */
  end: number;
  line: Buffer;
}

/**
 * The complete lines (those followed by a newline) that end at or before `end`, last first.
 * Reads backwards in blocks, so the cost is proportional to what the caller consumes.
 */
export async function* linesBackward(segment: LogSegment, end: number): AsyncGenerator<PhysicalLine> {
  let pos = end;
  let lineEnd = -1; // offset of the newline that ends the line being assembled
  let pending: Buffer[] = []; // the assembled line's bytes that lie in later blocks
  while (pos > 0) {
    const readStart = Math.max(0, pos - BLOCK_BYTES);
    const block = await segment.read(readStart, pos - readStart);
    if (block.length === 0) break;
    let i = block.length;
    while (i > 0) {
      const nl = block.lastIndexOf(NEWLINE, i - 1);
      if (nl === -1) break;
      if (lineEnd !== -1) {
        const head = block.subarray(nl + 1, i);
        const line = pending.length === 0 ? head : Buffer.concat([head, ...pending]);
        yield { start: readStart + nl + 1, end: lineEnd + 1, line };
      }
      lineEnd = readStart + nl;
      pending = [];
      i = nl;
    }
    if (lineEnd !== -1 && i > 0) pending.unshift(block.subarray(0, i));
    pos = readStart;
  }
  if (lineEnd !== -1) yield { start: 0, end: lineEnd + 1, line: Buffer.concat(pending) };
}

/** The offset just past the last newline: where an unfinished last line starts. */
export async function completeEnd(segment: LogSegment): Promise<number> {
  for await (const { end } of linesBackward(segment, await segment.size())) return end;
  return 0;
}

/**
 * The complete lines starting at `from` (a line start), first first, read in blocks. Stops at
 * the first line with no newline yet.
 */
export async function* linesForward(segment: LogSegment, from: number): AsyncGenerator<PhysicalLine> {
  let pos = from;
  let carry: Buffer | null = null; // the start of a line that continues in the next block
  for (;;) {
    const block = await segment.read(pos, BLOCK_BYTES);
    if (block.length === 0) return;
    const data: Buffer = carry ? Buffer.concat([carry, block]) : block;
    const dataStart = pos - (carry?.length ?? 0);
    let start = 0;
    for (;;) {
      const nl = data.indexOf(NEWLINE, start);
      if (nl === -1) break;
      yield { start: dataStart + start, end: dataStart + nl + 1, line: data.subarray(start, nl) };
      start = nl + 1;
    }
    carry = start < data.length ? data.subarray(start) : null;
    pos += block.length;
  }
}

/** The first complete line starting at or after `from`, or undefined at the end. */
async function firstLineFrom(segment: LogSegment, from: number): Promise<PhysicalLine | undefined> {
  // A line starts at `from` only if the byte before it is a newline; else skip to the next one.
  let start = from;
  if (from > 0) {
    const nl = await findNewline(segment, from - 1);
    if (nl === -1) return undefined;
    start = nl + 1;
  }
  const nl = await findNewline(segment, start);
  if (nl === -1) return undefined;
  return { start, end: nl + 1, line: await segment.read(start, nl - start) };
}

/** The offset of the first newline at or after `from`; reads small blocks first (lines are short). */
async function findNewline(segment: LogSegment, from: number): Promise<number> {
  let pos = from;
  let size = 4096;
  for (;;) {
    const block = await segment.read(pos, size);
    if (block.length === 0) return -1;
    const i = block.indexOf(NEWLINE);
    if (i !== -1) return pos + i;
    pos += block.length;
    size = Math.min(size * 2, BLOCK_BYTES);
  }
}

/**
 * The offset of the first line stamped at or after `time` in one segment (lines are in time
 * order), found by bisecting byte offsets and then scanning at most one block. Pieces of a
 * split line (CRI `P`) just before it are included, so that the line is delivered whole.
 */
export async function findFirstAtOrAfter(segment: LogSegment, format: LogFileFormat, time: UnixNanos): Promise<number> {
  // Invariant: every line starting before `lo` is stamped before `time`; the answer is a line
  // start at or after `lo`, and no later than the first line starting at or after `hi`.
  let lo = 0;
  let hi = await segment.size();
  while (hi - lo > BLOCK_BYTES) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const probe = await firstLineFrom(segment, mid);
    if (!probe || probe.start >= hi) {
      hi = mid;
      continue;
    }
    const t = format.timeOf(probe.line);
    if (t !== undefined && t < time) lo = probe.start;
    else hi = mid; // at/after `time`, or unreadable: search left, never skip it
  }
  let answer = -1;
  for await (const { start, line } of linesForward(segment, lo)) {
    const t = format.timeOf(line);
    if (t !== undefined && t >= time) {
      answer = start;
      break;
    }
  }
  if (answer === -1) return completeEnd(segment);
  // Back over the leading pieces of a split line.
  for await (const { start, line } of linesBackward(segment, answer)) {
    if (format.parse(line)?.endsLine !== false) break;
    answer = start;
  }
  return answer;
}

/**
 * Where to start so that every line stamped at or after `time` is read: the newest segment
 * whose first line is stamped before `time`, bisected (older segments are not touched).
 */
export async function findTimePosition(
  segments: readonly LogSegment[],
  format: LogFileFormat,
  time: UnixNanos,
): Promise<SegmentPosition> {
  for (let index = segments.length - 1; index >= 0; index--) {
    const first = await firstTime(segments[index]!, format);
    if (first !== undefined && first < time) {
      return { index, offset: await findFirstAtOrAfter(segments[index]!, format, time) };
    }
  }
  return { index: 0, offset: 0 };
}

/** The time of the first line that has one (looking at most `limit` lines in). */
async function firstTime(segment: LogSegment, format: LogFileFormat, limit = 64): Promise<UnixNanos | undefined> {
  let seen = 0;
  for await (const { line } of linesForward(segment, 0)) {
    const time = format.timeOf(line);
    if (time !== undefined) return time;
    if (++seen >= limit) break;
  }
  return undefined;
}

export interface TailPosition {
  /** The first byte of the first of the last `n` lines. */
  emitFrom: SegmentPosition;
  /**
   * Where reading starts: `emitFrom`, or earlier lines stamped with the same time as the first
   * emitted line, so that time-cursor sequence numbers count from the first line of that time.
   */
  readFrom: SegmentPosition;
}

/**
 * The start of the last `n` whole lines of the selected streams, reading backwards from the
 * end of the newest segment into older ones as needed.
 */
export async function findTailPosition(
  segments: readonly LogSegment[],
  format: LogFileFormat,
  n: number,
  selected: (stream: StreamName) => boolean,
): Promise<TailPosition> {
  let count = 0;
  let emitFrom: SegmentPosition | null = null;
  let readFrom: SegmentPosition | null = null;
  let nextTime: UnixNanos | null | undefined; // time of the line after the current one
  let boundaryTime: UnixNanos | null | undefined;
  for (let index = segments.length - 1; index >= 0; index--) {
    const segment = segments[index]!;
    for await (const { start, end, line } of linesBackward(segment, await segment.size())) {
      const entry = format.parse(line);
      if (emitFrom === null) {
        if (!entry) continue;
        if (entry.endsLine && selected(entry.stream)) {
          if (count === n) {
            emitFrom = { index, offset: end };
            readFrom = emitFrom;
            boundaryTime = nextTime;
            if (!format.timestamped || boundaryTime == null) return { emitFrom, readFrom };
          }
          count++;
        }
        nextTime = entry.time;
        if (emitFrom === null) continue;
      }
      // Past the tail: keep going back while lines share the first emitted line's time.
      if (entry?.time !== boundaryTime) return { emitFrom: emitFrom, readFrom: readFrom! };
      readFrom = { index, offset: start };
    }
  }
  const start = { index: 0, offset: 0 };
  return { emitFrom: emitFrom ?? start, readFrom: readFrom ?? start };
}
