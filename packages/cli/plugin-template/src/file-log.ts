import { watch, type FSWatcher } from 'node:fs';
import { stat, type FileHandle } from 'node:fs/promises';
import {
  LineSplitter,
  encodeByteCursor,
  type LineRecord,
  type LogOptions,
  type LogRecord,
  type OpenStream,
} from '@enginegate/plugin-api';

/** Bytes read from the file at a time: one read gives one batch of records. */
const READ_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** Where a read starts: right behind the `after` cursor, `tail` lines before the end, or at the start. */
export async function startOffset(file: FileHandle, options: LogOptions): Promise<number> {
  // `after` replaces `tail`; the engine has refused a cursor of another kind already.
  if (options.after?.kind === 'byte') return options.after.offset;
  if (options.tail === undefined) return 0;
  return tailOffset(file, options.tail);
}

/** Where the last `tail` lines begin: one pass over the file, keeping only the last line starts. */
async function tailOffset(file: FileHandle, tail: number): Promise<number> {
  const { size } = await file.stat();
  if (tail === 0) return size;
  let starts = size > 0 ? [0] : [];
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  for (let position = 0; position < size;) {
    const { bytesRead } = await file.read(buffer, 0, Math.min(READ_BYTES, size - position), position);
    if (bytesRead === 0) break;
    const chunk = buffer.subarray(0, bytesRead);
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, nl + 1)) {
      if (position + nl + 1 < size) starts.push(position + nl + 1);
    }
    if (starts.length > 2 * tail) starts = starts.slice(-tail);
    position += bytesRead;
  }
  return starts.length < tail ? 0 : starts[starts.length - tail]!;
}

/**
 * Wakes a follower when its file changes, and tells it when the file is gone (removed, or
 * replaced by another file: the container was removed) or its stream ended. The OS says when
 * the file changed (fs.watch): no polling loop.
 */
export class FileChanges {
  private readonly watcher: FSWatcher | undefined;
  private changed = false;
  private wake: (() => void) | undefined;
  private readonly notify = () => {
    this.changed = true;
    this.wake?.();
  };

  constructor(
    private readonly path: string,
    private readonly file: FileHandle,
    private readonly signal: AbortSignal,
  ) {
    try {
      this.watcher = watch(path, this.notify).on('error', this.notify);
    } catch {
      this.watcher = undefined; // removed already: next() says so
    }
    signal.addEventListener('abort', this.notify, { once: true });
  }

  /** Resolves true once the file changed since the last call; false when it is gone or the stream ended. */
  async next(): Promise<boolean> {
    if (!this.changed && !this.signal.aborted) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    this.changed = false;
    if (this.signal.aborted || this.watcher === undefined) return false;
    const [named, opened] = await Promise.all([stat(this.path).catch(() => undefined), this.file.stat()]);
    return named !== undefined && named.ino === opened.ino && named.dev === opened.dev;
  }

  close(): void {
    this.watcher?.close();
    this.signal.removeEventListener('abort', this.notify);
  }
}

export interface FileLogRead {
  file: FileHandle;
  /** The byte offset of the first line to send. */
  start: number;
  options: LogOptions;
  stream: OpenStream;
  /** Given when following: what is appended is sent too, until the file is removed. */
  changes: FileChanges | undefined;
}

/**
 * The records of one file from `start`: the lines it holds, then (following) the lines appended
 * to it. Every line is stdout and has no time; its cursor is the byte offset right behind it.
 */
export function readFileLog(read: FileLogRead): AsyncIterable<LogRecord[]> {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    read.changes?.close();
    read.stream.release();
    void read.file.close().catch(() => undefined);
  };
  // A client that leaves before the first pull never runs the generator's `finally`.
  read.stream.destroyOnAbort({ destroy: close });
  return fileRecords(read, close);
}

async function* fileRecords(read: FileLogRead, close: () => void): AsyncGenerator<LogRecord[]> {
  const { options, changes } = read;
  const splitter = new LineSplitter();
  let position = read.start;
  /** Where the next line begins, so the cursor of a line is where the line after it starts. */
  let lineStart = read.start;
  try {
    for (;;) {
      // Read only when pulled: that is the backpressure. A fresh buffer, as records are views of it.
      const chunk = await readAt(read, position);
      if (chunk === undefined) return;
      const batch: LineRecord[] = [];
      const sink = (line: Buffer, partial: boolean) => {
        lineStart += line.length + (partial ? 0 : 1);
        if (options.stdout) batch.push(lineRecord(line, partial, lineStart));
      };
      position += chunk.length;
      if (chunk.length > 0) splitter.push(chunk, sink);
      // Not following: an unterminated last line goes out as it is, marked partial.
      else if (changes === undefined) splitter.end(sink);
      if (batch.length > 0) yield batch;
      if (chunk.length > 0) continue;
      if (changes === undefined || !(await changes.next())) return;
    }
  } finally {
    close();
  }
}

/** The bytes at `position` (empty at the end of the file); undefined once the stream ended. */
async function readAt(read: FileLogRead, position: number): Promise<Buffer | undefined> {
  if (read.stream.signal.aborted) return undefined;
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  try {
    const { bytesRead } = await read.file.read(buffer, 0, READ_BYTES, position);
    return buffer.subarray(0, bytesRead);
  } catch (err) {
    // The abort closed the file under the read: the stream ended, it did not fail.
    if (read.stream.signal.aborted) return undefined;
    throw err;
  }
}

function lineRecord(line: Buffer, partial: boolean, end: number): LineRecord {
  const record: LineRecord = { type: 'line', stream: 'stdout', time: null, line, cursor: encodeByteCursor(end) };
  if (partial) record.partial = true;
  return record;
}
