/**
 * Cuts a byte stream into lines, re-joining lines that an engine split into pieces (Docker's
 * and CRI's 16 KiB partial lines, or a line spread over two reads), and cutting a line longer
 * than `maxLineBytes` only at a UTF-8 boundary.
 *
 * Lines that lie whole inside one pushed chunk are emitted as views of that chunk (no copy):
 * a consumer that keeps a line past the next push must copy it.
 */
export interface SplitLine {
  line: Buffer;
  /** True when the bytes were not followed by a newline: a cut piece or an unterminated tail. */
  partial: boolean;
}

export type LineSink = (line: Buffer, partial: boolean) => void;
/** A line as bytes [start, end) of `buf`: a whole line inside a chunk is no view of its own. */
export type LineRangeSink = (buf: Buffer, start: number, end: number, partial: boolean) => void;

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /** Bytes held for a line whose end has not arrived yet. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Pushes raw bytes; every `\n` ends a line. */
  push(chunk: Buffer, sink: LineSink): void {
    this.pushRanges(chunk, (buf, start, end, partial) => sink(buf.subarray(start, end), partial));
  }

  /**
   * `push`, with each line handed over as a range of a buffer: a reader that parses the line
   * and keeps only part of it (a file log's content) makes one view instead of two.
   */
  pushRanges(chunk: Buffer, sink: LineRangeSink): void {
    const whole: LineSink = (line, partial) => sink(line, 0, line.length, partial);
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      if (this.pendingBytes === 0) {
        if (nl - start <= this.maxLineBytes) sink(chunk, start, nl, false);
        else this.emitBounded(chunk.subarray(start, nl), false, whole);
      } else {
        this.pending.push(chunk.subarray(start, nl));
        this.flushPending(false, whole);
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.hold(chunk.subarray(start), whole);
  }

  /**
   * Pushes one piece of a line as an engine framed it: `endsLine` false for a partial piece
   * (Docker's frame without a trailing newline, CRI's `P`), true for the last piece.
   * The piece must not contain the newline itself.
   */
  pushPiece(piece: Buffer, endsLine: boolean, sink: LineSink): void {
    if (!endsLine) {
      this.hold(piece, sink);
      return;
    }
    if (this.pendingBytes === 0) {
      this.emitBounded(piece, false, sink);
    } else {
      this.pending.push(piece);
      this.flushPending(false, sink);
    }
  }

  /** Emits an unterminated tail, if any, as a partial line. */
  end(sink: LineSink): void {
    if (this.pendingBytes > 0) this.flushPending(true, sink);
  }

  private hold(piece: Buffer, sink: LineSink): void {
    // Copy: the caller may reuse the chunk's memory once push() returns.
    this.pending.push(Buffer.from(piece));
    this.pendingBytes += piece.length;
    if (this.pendingBytes > this.maxLineBytes) {
      const joined = Buffer.concat(this.pending, this.pendingBytes);
      const cut = utf8BoundaryAtOrBefore(joined, this.maxLineBytes);
      sink(joined.subarray(0, cut), true);
      const rest = joined.subarray(cut);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingBytes = rest.length;
      // A rest still over the limit (a huge single push) is cut again.
      if (this.pendingBytes > this.maxLineBytes) {
        const again = this.pending.pop()!;
        this.pendingBytes = 0;
        this.hold(again, sink);
      }
    }
  }

  private flushPending(partial: boolean, sink: LineSink): void {
    const joined = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.emitBounded(joined, partial, sink);
  }

  private emitBounded(line: Buffer, partial: boolean, sink: LineSink): void {
    let rest = line;
    while (rest.length > this.maxLineBytes) {
      const cut = utf8BoundaryAtOrBefore(rest, this.maxLineBytes);
      sink(rest.subarray(0, cut), true);
      rest = rest.subarray(cut);
    }
    sink(rest, partial);
  }
}

/**
 * The largest index <= `limit` at which `buf` can be cut without splitting a UTF-8 sequence.
 * Bytes that are not valid UTF-8 anyway are cut at `limit`.
 */
export function utf8BoundaryAtOrBefore(buf: Buffer, limit: number): number {
  if (limit >= buf.length) return buf.length;
  if (limit <= 0) return 0;
  // Walk back over at most 3 continuation bytes (10xxxxxx) to the lead byte.
  for (let i = limit, steps = 0; i > 0 && steps < 4; i--, steps++) {
    if ((buf[i]! & 0xc0) !== 0x80) return i;
  }
  return limit;
}
