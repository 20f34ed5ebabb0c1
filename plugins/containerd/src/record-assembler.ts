import {
  DEFAULT_MAX_LINE_BYTES,
  LineSplitter,
  TimeCursorSequencer,
  encodeByteCursor,
  encodeTimeCursor,
  type LineRecord,
  type LogOptions,
  type LogRecord,
  type StreamName,
  type TimeCursor,
  type UnixNanos,
} from '@enginegate/plugin-api';
import type { LogFileFormat } from './log-formats.js';
import type { SegmentPosition } from './log-positioning.js';

/** Where a physical line lies: its segment, first byte and the offset just past it. */
export interface LinePlace {
  index: number;
  start: number;
  end: number;
  /** The segment's file identity, for byte cursors. */
  fileId: string;
}

/**
 * Turns the physical lines of a log file into `LineRecord`s: re-joins split lines per stream
 * (CRI `P`/`F`, json-file entries without `\n`), numbers records for time cursors, and applies
 * what the client asked for (streams, `since`/`until`, `after`, the tail's first line).
 *
 * Every record is sequenced, including those of unselected streams and those before the tail,
 * so that a record's cursor is the same whatever the request that delivered it; except for a
 * `linesOnly` read without `after`, which wants no cursors (the cursor strings are a good part
 * of a history read's cost).
 */
export class RecordAssembler {
  private readonly pieces: Record<StreamName, LineSplitter> = {
    stdout: new LineSplitter(),
    stderr: new LineSplitter(),
  };
  /** Place of the first piece of the line each stream is assembling. */
  private readonly pieceStart: Record<StreamName, SegmentPosition | null> = { stdout: null, stderr: null };
  /** Time of the last piece each stream pushed (a line flushed unfinished gets it). */
  private readonly pieceTime: Record<StreamName, UnixNanos> = { stdout: 0n, stderr: 0n };
  private readonly sequencer = new TimeCursorSequencer();
  private readonly afterTime: TimeCursor | undefined;
  private seekingCursor: boolean;
  private untilPassed = false;
  private readonly numbered: boolean;
  /** Inside a physical line the splitter is cutting into pieces (see pushLine). */
  private inRunawayLine = false;

  constructor(
    private readonly format: LogFileFormat,
    private readonly options: LogOptions,
    /** Records whose first byte lies before this are sequenced but not delivered. */
    private readonly emitFrom: SegmentPosition | null = null,
  ) {
    this.afterTime = options.after?.kind === 'time' ? options.after : undefined;
    this.seekingCursor = this.afterTime !== undefined;
    this.numbered = options.linesOnly !== true || options.after !== undefined;
  }

  /** True once a record stamped after `until` was seen: nothing more will be delivered. */
  get pastUntil(): boolean {
    return this.untilPassed;
  }

  /**
   * Feeds one physical line, bytes [start, end) of `buf`. `cut` is true when the line splitter
   * cut an over-long line (no newline followed these bytes).
   */
  pushLine(buf: Buffer, start: number, end: number, cut: boolean, place: LinePlace, out: LogRecord[]): void {
    if (this.format.timestamped === false) {
      this.pushRaw(buf.subarray(start, end), cut, place, out);
      return;
    }
    if (cut || this.inRunawayLine) {
      // A physical line over the splitter's limit (1 MiB): no writer of this format makes one,
      // so it is not an entry; say so once instead of dropping it silently.
      if (!this.inRunawayLine)
        out.push({ type: 'gap', reason: 'skipped a log file line longer than 1 MiB that is not a log entry' });
      this.inRunawayLine = cut;
      return;
    }
    const entry = this.format.parse(buf, start, end);
    if (!entry) return; // not this format (a foreign or damaged line)
    const stream = entry.stream;
    this.pieceTime[stream] = entry.time!;
    const pieces = this.pieces[stream];
    if (entry.endsLine && pieces.bufferedBytes === 0 && entry.content.length <= DEFAULT_MAX_LINE_BYTES) {
      // A whole line with nothing of its stream pending, nearly every line: emitted as it is,
      // without the splitter's callback and position objects (a 300k-line history read makes
      // them 300k times).
      this.emit(stream, entry.time!, entry.content, false, place.index, place.start, out);
      return;
    }
    this.pieceStart[stream] ??= { index: place.index, offset: place.start };
    pieces.pushPiece(entry.content, entry.endsLine, (joined, partial) => {
      const from = this.pieceStart[stream]!;
      if (!partial) this.pieceStart[stream] = null;
      this.emit(stream, entry.time!, joined, partial, from.index, from.offset, out);
    });
  }

  /** Delivers lines still being assembled (the log ended inside a split line). */
  flush(out: LogRecord[]): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const from = this.pieceStart[stream];
      this.pieces[stream].end((line) => {
        this.emit(stream, this.pieceTime[stream], line, true, from?.index ?? 0, from?.offset ?? 0, out);
      });
      this.pieceStart[stream] = null;
    }
  }

  private pushRaw(line: Buffer, cut: boolean, place: LinePlace, out: LogRecord[]): void {
    if (!this.options.stdout || this.untilPassed) return;
    if (this.emitFrom && before(place.index, place.start, this.emitFrom)) return;
    const record: LineRecord = {
      type: 'line',
      stream: 'stdout',
      time: null,
      line,
      cursor: this.numbered ? encodeByteCursor(place.end, place.fileId) : '',
    };
    if (cut) record.partial = true;
    out.push(record);
  }

  /** `fromIndex`/`fromOffset`: where the record's first byte lies (its segment and offset). */
  private emit(
    stream: StreamName,
    time: UnixNanos,
    line: Buffer,
    partial: boolean,
    fromIndex: number,
    fromOffset: number,
    out: LogRecord[],
  ): void {
    const seq = this.numbered ? this.sequencer.advance(time) : 0;
    if (this.untilPassed) return;
    if (this.seekingCursor) {
      const after = this.afterTime!;
      if (time === after.time && seq === after.seq) {
        this.seekingCursor = false;
        return; // the record the cursor names: resume right behind it
      }
      if (time <= after.time) return;
      // Past the cursor's time without meeting its record (rotated away): resume here.
      this.seekingCursor = false;
    }
    if (this.options.until !== undefined && time > this.options.until) {
      this.untilPassed = true;
      return;
    }
    if (this.options.since !== undefined && time < this.options.since) return;
    if (this.emitFrom && before(fromIndex, fromOffset, this.emitFrom)) return;
    if (!(stream === 'stdout' ? this.options.stdout : this.options.stderr)) return;
    // The cursor string only for a record delivered (a tail or `since` skips most of a file).
    const cursor = this.numbered ? encodeTimeCursor(time, seq) : '';
    const record: LineRecord = { type: 'line', stream, time, line, cursor };
    if (partial) record.partial = true;
    out.push(record);
  }
}

/** comparePositions(a, b) < 0 for a = { index, offset }, without making `a`. */
function before(index: number, offset: number, b: SegmentPosition): boolean {
  return index < b.index || (index === b.index && offset < b.offset);
}
