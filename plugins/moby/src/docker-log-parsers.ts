import {
  DockerLogEntryReader,
  LineSplitter,
  TimestampParser,
  type StreamName,
  type UnixNanos,
} from '@enginegate/plugin-api';

/** One whole line (or a cut piece of an over-long one) with the time Docker stamped it (0n untimed). */
export type ParsedLineSink = (stream: StreamName, time: UnixNanos, line: Buffer, partial: boolean) => void;

/**
 * Turns the body of `GET /containers/{id}/logs` into lines: with `timestamps=1` (every record
 * gets its time), or untimed (`timestamps=0`, a `linesOnly` read: every time is 0n). Push parsers: they
 * hold no stream, so the reader pulls from Docker only as fast as its consumer pulls lines.
 */
export interface DockerLogParser {
  push(chunk: Buffer, sink: ParsedLineSink): void;
  /** The body ended: emit an unterminated last line, if any. */
  end(sink: ParsedLineSink): void;
  /** Docker's in-band error (a stream-3 frame), once one arrived; nothing follows it. */
  readonly inBandError: string | undefined;
  /** Docker log entries seen so far (a long line's 16 KiB pieces are one entry each). */
  readonly entries: number;
  /** True when the body so far ends inside a frame (never for a TTY's unframed bytes). */
  readonly midFrame: boolean;
}

/** The size of the pieces Docker's log copier cuts long lines into. */
export const DOCKER_PIECE_BYTES = 16 * 1024;

const SPACE = 0x20;
const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
/** A timestamp is 20–35 bytes; a space further in means the line has none. */
const MAX_TIMESTAMP_BYTES = 40;

/**
 * Non-TTY containers: Docker's 8-byte-header frames, one per log message (plugin-api's
 * `DockerLogEntryReader`). A message is a whole line (its payload ends in `\n`) or one 16 KiB
 * piece of a longer line (no `\n`), each with its own timestamp prefix; the pieces are
 * re-joined per stream.
 */
export class MultiplexedLogParser implements DockerLogParser {
  private readonly reader: DockerLogEntryReader;
  private readonly splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  /** The time of the first piece of the line being joined, per stream. */
  private readonly lineTime = { stdout: 0n, stderr: 0n };

  /**
   * @param newlineLost Docker 20.10's `local` driver gives back the last piece of a long line
   * without its newline. Docker cuts only full 16 KiB pieces, so with it set, a shorter piece
   * without a newline ends its line (an unterminated last line then loses its `partial` mark).
   * @param timestamped false for a body asked without timestamps.
   */
  constructor(
    private readonly newlineLost = false,
    timestamped = true,
  ) {
    this.reader = new DockerLogEntryReader(timestamped);
  }

  get inBandError(): string | undefined {
    return this.reader.inBandError;
  }

  get entries(): number {
    return this.reader.entries;
  }

  get midFrame(): boolean {
    return this.reader.midFrame;
  }

  push(chunk: Buffer, sink: ParsedLineSink): void {
    this.reader.push(chunk, (stream, time, content) => this.onMessage(stream, time, content, sink));
  }

  end(sink: ParsedLineSink): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      this.splitters[stream].end((line, partial) => sink(stream, this.lineTime[stream], line, partial));
    }
  }

  private onMessage(stream: StreamName, time: UnixNanos, content: Buffer, sink: ParsedLineSink): void {
    const hasNewline = content.length > 0 && content[content.length - 1] === NEWLINE;
    const piece = hasNewline ? content.subarray(0, content.length - 1) : content;
    const endsLine = hasNewline || (this.newlineLost && piece.length < DOCKER_PIECE_BYTES);
    const splitter = this.splitters[stream];
    const emit = (line: Buffer, partial: boolean) => sink(stream, this.lineTime[stream], line, partial);
    if (splitter.bufferedBytes > 0 && time !== this.lineTime[stream]) {
      // Every piece of a line carries the line's time, so a new time starts a new line (the
      // `local` driver's lost newline again, should its last piece be a full 16 KiB).
      splitter.pushPiece(EMPTY, true, emit);
    }
    if (splitter.bufferedBytes === 0) this.lineTime[stream] = time; // a new line starts with this piece
    splitter.pushPiece(piece, endsLine, emit);
  }
}

/**
 * TTY containers: raw bytes, no frames, everything on stdout. Each line is
 * `<timestamp> <bytes>\n` (with a TTY the bytes usually end in `\r`, kept as sent). A line over
 * 16 KiB arrives as pieces with no newline between them, each piece re-stamped: after every
 * 16384 bytes of a line comes another `<timestamp> `, which is dropped here. Asked without
 * timestamps, the bytes are all content.
 */
export class TtyLogParser implements DockerLogParser {
  private readonly splitter = new LineSplitter();
  private readonly timestamps = new TimestampParser();
  private atLineStart = true;
  private time: UnixNanos = 0n;
  /** Bytes of the current line until Docker's next piece stamp. */
  private untilStamp = DOCKER_PIECE_BYTES;
  readonly inBandError = undefined;
  readonly midFrame = false;
  entries = 0;

  constructor(private readonly timestamped = true) {}

  push(chunk: Buffer, sink: ParsedLineSink): void {
    this.splitter.push(chunk, (raw, partial) => this.onLine(raw, partial, sink));
  }

  end(sink: ParsedLineSink): void {
    this.splitter.end((raw, partial) => this.onLine(raw, partial, sink));
  }

  private onLine(raw: Buffer, partial: boolean, sink: ParsedLineSink): void {
    let content = raw;
    if (!this.timestamped) {
      if (this.atLineStart) this.entries++;
      this.atLineStart = !partial;
      sink('stdout', 0n, content, partial);
      return;
    }
    if (this.atLineStart) {
      this.entries++;
      const space = raw.indexOf(SPACE);
      const time = space > 0 && space <= MAX_TIMESTAMP_BYTES ? this.timestamps.parse(raw, 0, space) : undefined;
      if (time !== undefined) {
        this.time = time;
        content = raw.subarray(space + 1);
      }
      this.untilStamp = DOCKER_PIECE_BYTES;
    }
    content = this.dropPieceStamps(content);
    this.atLineStart = !partial;
    sink('stdout', this.time, content, partial);
  }

  private dropPieceStamps(content: Buffer): Buffer {
    if (content.length <= this.untilStamp) {
      this.untilStamp -= content.length;
      return content;
    }
    const parts: Buffer[] = [];
    let pos = 0;
    while (content.length - pos > this.untilStamp) {
      const at = pos + this.untilStamp;
      const space = content.indexOf(SPACE, at);
      const isStamp =
        space > at && space - at <= MAX_TIMESTAMP_BYTES && this.timestamps.parse(content, at, space) !== undefined;
      if (!isStamp) {
        // Not Docker's piece boundary after all: keep the bytes as they are.
        this.untilStamp = Number.MAX_SAFE_INTEGER;
        break;
      }
      parts.push(content.subarray(pos, at));
      pos = space + 1;
      this.untilStamp = DOCKER_PIECE_BYTES;
      this.entries++;
    }
    parts.push(content.subarray(pos));
    this.untilStamp -= content.length - pos;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/** The parser for a container: raw TTY bytes, or frames (with the `local` driver's quirk). */
export function parserFor(container: { tty: boolean; logDriver: string }, timestamped = true): DockerLogParser {
  return container.tty
    ? new TtyLogParser(timestamped)
    : new MultiplexedLogParser(container.logDriver === 'local', timestamped);
}
