import { DockerLogEntryReader, LineSplitter, type StreamName, type UnixNanos } from '@enginegate/plugin-api';
import {
  FLUSH_BOTH,
  FLUSH_STDERR,
  FLUSH_STDOUT,
  entryAfter,
  flushedStreams,
  type RecordPosition,
} from './record-position.js';

/** One line (or a cut piece of a longer one), with the time of its first entry. */
export interface ParsedRecord {
  stream: StreamName;
  time: UnixNanos;
  line: Buffer;
  partial: boolean;
}

/**
 * `trusted`: the record is the one a read from the start of the log would give, with the same
 * position — false for a line whose start may lie before the read's first entry (and for any
 * record while such a line is still open, since its `back` is then unknown).
 */
export type ParsedRecordSink = (record: ParsedRecord, position: RecordPosition, trusted: boolean) => void;

const NEWLINE = 0x0a;
const STREAMS = ['stdout', 'stderr'] as const;

interface StreamState {
  splitter: LineSplitter;
  /** A line has started and not ended. */
  open: boolean;
  /** The time of the open line's first entry. */
  lineStart: UnixNanos;
  /** The open line started after a line end of this stream was seen in this read. */
  lineTrusted: boolean;
  /** A line end of this stream was seen (or the read started at the log's beginning). */
  synced: boolean;
}

/**
 * Turns the libpod logs body (plugin-api's DockerLogEntryReader: frames of `<time> <content>`)
 * into records with their positions. conmon writes a line longer than 8 KiB, or output without
 * a newline yet, as entries without a newline, each with its own time; they are re-joined per
 * stream and the line takes the time of its first entry. The parser outlives a response: a
 * followed stream that resumes keeps its open lines and skips the entries it has seen.
 */
export class PodmanLogParser {
  /** Per response: a body cut mid-frame leaves half a frame that the next response must not continue. */
  private reader = new DockerLogEntryReader();
  private readonly streams: Record<StreamName, StreamState>;
  /** The last entry processed. */
  private instant: UnixNanos | undefined;
  private entry = -1;
  /** The numbering of the current response's entries (they restart at a resume). */
  private responseInstant: UnixNanos | undefined;
  private responseEntry = -1;
  /** Entries up to this one were processed before a resume; they are skipped when they come again. */
  private skipThrough: { instant: UnixNanos; entry: number } | undefined;
  /** At the first entry past this position, the open lines of its flushed streams are dropped. */
  private dropAt: RecordPosition | undefined;
  /** Entries past this one are not read (a `tail` read ends where the log ended when it was counted). */
  private stopAt: RecordPosition | undefined;
  /** An entry past `stopAt` came: nothing more is read. */
  stopped = false;

  /** @param fromLogStart the read starts at the first entry of the log (no `since`): every line start is known. */
  constructor(fromLogStart: boolean) {
    const state = (): StreamState => ({
      splitter: new LineSplitter(),
      open: false,
      lineStart: 0n,
      lineTrusted: fromLogStart,
      synced: fromLogStart,
    });
    this.streams = { stdout: state(), stderr: state() };
  }

  get inBandError(): string | undefined {
    return this.reader.inBandError;
  }

  /** The last entry processed, if any. */
  get lastEntry(): { instant: UnixNanos; entry: number } | undefined {
    return this.instant === undefined ? undefined : { instant: this.instant, entry: this.entry };
  }

  /**
   * A new response follows that starts at `lastEntry`'s time (Podman's `since`): its first
   * entries, up to the last one processed, are skipped.
   */
  resumeAfterLastEntry(): void {
    this.reader = new DockerLogEntryReader();
    this.skipThrough = this.lastEntry;
    this.responseInstant = undefined;
    this.responseEntry = -1;
  }

  /** Resuming from a cursor of a flushed record: drop what was flushed, once its entry has passed. */
  dropFlushedAt(position: RecordPosition): void {
    this.dropAt = position;
  }

  /** Reads no entry past the one `position` names (the records of later entries never come). */
  stopAfterEntryOf(position: RecordPosition): void {
    this.stopAt = position;
  }

  push(chunk: Buffer, sink: ParsedRecordSink): void {
    if (this.stopped) return;
    this.reader.push(chunk, (stream, time, content) => this.onEntry(stream, time, content, sink));
  }

  /** The read is over: the lines without an end so far are flushed as `partial` records. */
  end(sink: ParsedRecordSink): void {
    if (this.instant === undefined) return;
    this.applyDrop(true);
    let flushedStdout = false;
    for (const name of STREAMS) {
      const state = this.streams[name];
      if (!state.open) continue;
      const k = name === 'stdout' ? FLUSH_STDOUT : flushedStdout ? FLUSH_BOTH : FLUSH_STDERR;
      state.open = false;
      state.splitter.end((line) => this.emit(sink, name, state, line, true, k));
      if (name === 'stdout') flushedStdout = true;
    }
  }

  private onEntry(stream: StreamName, time: UnixNanos, content: Buffer, sink: ParsedRecordSink): void {
    if (time === this.responseInstant) this.responseEntry++;
    else {
      this.responseInstant = time;
      this.responseEntry = 0;
    }
    const skip = this.skipThrough;
    if (skip !== undefined) {
      if (time < skip.instant || (time === skip.instant && this.responseEntry <= skip.entry)) return;
      this.skipThrough = undefined;
    }
    if (
      this.stopped ||
      (this.stopAt !== undefined && entryAfter({ instant: time, entry: this.responseEntry }, this.stopAt))
    ) {
      this.stopped = true;
      return;
    }
    this.instant = time;
    this.entry = this.responseEntry;
    this.applyDrop(false);
    const state = this.streams[stream];
    const hasNewline = content.length > 0 && content[content.length - 1] === NEWLINE;
    const piece = hasNewline ? content.subarray(0, content.length - 1) : content;
    if (!state.open) {
      state.open = true;
      state.lineStart = time;
      state.lineTrusted = state.synced;
    }
    let k = 0;
    state.splitter.pushPiece(piece, hasNewline, (line, partial) => {
      // A partial record here is a cut of a line still open; a whole one ends it.
      state.open = partial;
      this.emit(sink, stream, state, line, partial, k++);
    });
    if (hasNewline) {
      state.open = false;
      state.synced = true;
    }
  }

  private emit(
    sink: ParsedRecordSink,
    stream: StreamName,
    state: StreamState,
    line: Buffer,
    partial: boolean,
    k: number,
  ): void {
    const time = state.lineStart;
    const trusted = state.lineTrusted;
    let earliest: UnixNanos | undefined;
    let orphanOpen = false;
    for (const name of STREAMS) {
      const other = this.streams[name];
      if (!other.open) continue;
      if (earliest === undefined || other.lineStart < earliest) earliest = other.lineStart;
      if (!other.lineTrusted) orphanOpen = true;
    }
    const instant = this.instant!;
    const back = earliest === undefined ? 0n : instant - earliest;
    sink({ stream, time, line, partial }, { instant, entry: this.entry, k, back }, trusted && !orphanOpen);
  }

  /** Drops the flushed streams' open lines once the entry of `dropAt` has passed (or the read ends). */
  private applyDrop(atEnd: boolean): void {
    const at = this.dropAt;
    if (at === undefined || this.instant === undefined) return;
    const current = { instant: this.instant, entry: this.entry };
    const passed = atEnd ? !entryAfter(at, { ...current, k: 0, back: 0n }) : entryAfter(current, at);
    if (!passed) return;
    this.dropAt = undefined;
    const flushed = flushedStreams(at.k);
    for (const name of STREAMS) {
      if (!flushed[name]) continue;
      const state = this.streams[name];
      state.splitter = new LineSplitter();
      state.open = false;
    }
  }
}
