import { LineSplitter, type LogOptions, type LogRecord, type StreamName } from '@enginegate/plugin-api';
import type { LogFileFormat } from './log-formats.js';
import { comparePositions, findTailPosition, findTimePosition, type SegmentPosition } from './log-positioning.js';
import { MissingSegment, type LogSegment } from './log-segments.js';
import { RecordAssembler, type LinePlace } from './record-assembler.js';

const READ_BYTES = 64 * 1024;

/**
 * A read position in the files of one log, oldest first: which file, which byte, and the line
 * being assembled there. A read turns the next bytes into records; at the end of a file the
 * cursor moves on to the next one, where the splitter starts afresh (a line never continues
 * across files). What to do at the end of the last file is the follower's business.
 *
 * The cursor owns its files: a file it leaves is closed at once, `close()` closes the rest, and
 * a file added after `close()` is closed instead of kept.
 */
export class SegmentCursor {
  /** `null` where a file was left (or skipped by the start position) and closed. */
  private readonly segments: (LogSegment | null)[] = [];
  private index = 0;
  private offset = 0;
  /** Where the line the splitter is assembling starts (it may have begun in an earlier read). */
  private lineStart = 0;
  private lines = new LineSplitter();
  private assembler: RecordAssembler;
  /**
   * Where delivery starts: a file missing there or before (a history that starts a file later,
   * or before a tail's first line) is no gap in what is delivered.
   */
  private emitFromIndex = 0;
  private closed = false;

  constructor(
    private readonly format: LogFileFormat,
    private readonly options: LogOptions,
  ) {
    this.assembler = new RecordAssembler(format, options);
  }

  /** Files ever queued, by device and inode: one listed again by a later look is not read twice. */
  private readonly queued = new Set<string>();

  /** Queues a file to read after those already queued. */
  add(segment: LogSegment): void {
    if (this.closed) void segment.close().catch(() => {});
    else {
      this.queued.add(segment.fileId);
      this.segments.push(segment);
    }
  }

  /** True when the file was queued before (read, being read, or waiting). */
  hasQueued(fileId: string): boolean {
    return this.queued.has(fileId);
  }

  /**
   * Places the cursor where `tail`/`since`/`after` start, in the files queued so far (all
   * open), and closes the files before it. A record for the client (a gap) goes into `out`.
   */
  async start(out: LogRecord[]): Promise<void> {
    const { readFrom, emitFrom } = await startPosition(this.segments as LogSegment[], this.format, this.options, out);
    // Rotated files before the start are not read: do not hold them open while following.
    for (let i = 0; i < readFrom.index; i++) {
      await this.segments[i]?.close();
      this.segments[i] = null;
    }
    this.index = readFrom.index;
    this.offset = this.lineStart = readFrom.offset;
    this.assembler = new RecordAssembler(this.format, this.options, emitFrom);
    // A start at the very end of a file is the start of the next one.
    const emitAt = emitFrom ?? readFrom;
    const atEnd = emitAt.offset > 0 && emitAt.offset >= (await this.segments[emitAt.index]!.size());
    this.emitFromIndex = emitAt.index + (atEnd ? 1 : 0);
  }

  /** The file being read; undefined once past the last one (the current file not there yet). */
  get segment(): LogSegment | undefined {
    return this.segments[this.index] ?? undefined;
  }

  /** The byte offset read up to in `segment`. */
  get position(): number {
    return this.offset;
  }

  get onLastSegment(): boolean {
    return this.index >= this.segments.length - 1;
  }

  /** True once a record stamped after `until` was seen: nothing more will be delivered. */
  get pastUntil(): boolean {
    return this.assembler.pastUntil;
  }

  /** The records of the next bytes of `segment` (perhaps none); null at its end (for now). */
  async read(): Promise<LogRecord[] | null> {
    const segment = this.segment;
    if (!segment) return null;
    if (segment instanceof MissingSegment) {
      if (segment.reported || this.index <= this.emitFromIndex) return null;
      segment.reported = true;
      return [{ type: 'gap', reason: segment.reason }];
    }
    const chunk = await segment.read(this.offset, READ_BYTES);
    if (chunk.length === 0) return null;
    const out: LogRecord[] = [];
    // One place for every line of the chunk: pushLine reads it and keeps nothing of it.
    const place: LinePlace = { index: this.index, start: 0, end: 0, fileId: segment.fileId };
    this.lines.pushRanges(chunk, (buf, start, end, cut) => {
      place.start = this.lineStart;
      place.end = this.lineStart + (end - start) + (cut ? 0 : 1);
      this.assembler.pushLine(buf, start, end, cut, place, out);
      this.lineStart = place.end;
    });
    this.offset += chunk.length;
    return out;
  }

  /** Leaves the finished `segment` (closing it) for the start of the next file. */
  async nextSegment(): Promise<void> {
    await this.segment?.close();
    this.segments[this.index] = null;
    this.index++;
    this.restart();
  }

  /** Reads `segment` again from its start (the file was truncated). */
  restart(): void {
    this.offset = 0;
    this.lineStart = 0;
    this.lines = new LineSplitter();
  }

  /**
   * The last records of a log that ends here: the file's unterminated last line — delivered
   * as partial for a raw log, parsed as the entry it may be (a writer cut short) for a
   * timestamped format — and the lines still being re-joined.
   */
  finish(): LogRecord[] {
    const out: LogRecord[] = [];
    const segment = this.segment;
    if (segment) {
      this.lines.end((line) => {
        const place = { index: this.index, start: this.lineStart, end: this.offset, fileId: segment.fileId };
        this.assembler.pushLine(line, 0, line.length, !this.format.timestamped, place, out);
      });
    }
    this.assembler.flush(out);
    return out;
  }

  close(): void {
    this.closed = true;
    for (const segment of this.segments) void segment?.close().catch(() => {});
    this.segments.length = 0;
  }
}

/** Where reading starts and from where records are delivered, for tail/since/after. */
async function startPosition(
  segments: LogSegment[],
  format: LogFileFormat,
  options: LogOptions,
  out: LogRecord[],
): Promise<{ readFrom: SegmentPosition; emitFrom: SegmentPosition | null }> {
  const last = segments.length - 1;
  const after = options.after;
  if (after?.kind === 'byte') {
    const current = segments[last]!;
    if ((after.file === undefined || after.file === current.fileId) && after.offset <= (await current.size())) {
      return { readFrom: { index: last, offset: after.offset }, emitFrom: null };
    }
    out.push({
      type: 'gap',
      reason: 'the log file the cursor points into was replaced; reading the current file from its start',
    });
    return { readFrom: { index: last, offset: 0 }, emitFrom: null };
  }
  if (after?.kind === 'time') {
    return { readFrom: await findTimePosition(segments, format, after.time), emitFrom: null };
  }
  let readFrom: SegmentPosition = { index: 0, offset: 0 };
  let emitFrom: SegmentPosition | null = null;
  if (options.since !== undefined && format.timestamped) {
    readFrom = await findTimePosition(segments, format, options.since);
  }
  if (options.tail !== undefined) {
    const selected = (stream: StreamName) => (stream === 'stdout' ? options.stdout : options.stderr);
    const tail = await findTailPosition(segments, format, options.tail, selected);
    if (comparePositions(tail.emitFrom, readFrom) > 0) {
      readFrom = tail.readFrom;
      emitFrom = tail.emitFrom;
    }
  }
  return { readFrom, emitFrom };
}
