import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  EngineUnavailableError,
  LineSplitter,
  isEngineGateError,
  type LogOptions,
  type LogRecord,
  type PluginLogger,
  type StreamName,
} from '@enginegate/plugin-api';
import { ChangeWaiter } from './change-waiter.js';
import { DEFAULT_EXIT_SETTLE_MS } from './plugin-config.js';
import type { LogFileFormat } from './log-formats.js';
import { comparePositions, findTailPosition, findTimePosition, type SegmentPosition } from './log-positioning.js';
import type { LogRoots } from './log-roots.js';
import {
  fileIdOf,
  listRotatedFiles,
  openLogSegment,
  type LogSegment,
  type RotatedFile,
  type RotationScheme,
} from './log-segments.js';
import { RecordAssembler } from './record-assembler.js';
import type { TaskExit } from './task-exit-monitor.js';

/** Tells a follower when its task exits. */
export interface TaskWatch {
  /**
   * Starts watching the task and checks that it is running (in that order, so that no exit is
   * missed). Resolves false, watching nothing, when there is nothing to follow.
   */
  begin(onExit: (exit: TaskExit) => void): Promise<boolean>;
  /** Stops watching; idempotent. */
  end(): void;
}

export interface LogFileStreamOptions {
  /** The current log file, a real path already checked against the log roots. */
  path: string;
  format: LogFileFormat;
  rotation: RotationScheme;
  options: LogOptions;
  /** The container's task, when `options.follow` asks to follow it. */
  task?: TaskWatch;
  roots: LogRoots;
  logger: PluginLogger;
  signal: AbortSignal;
  pollIntervalMs?: number;
  /** After the task exited, the file must stay quiet this long before the stream ends. */
  exitSettleMs?: number;
}

const READ_BYTES = 64 * 1024;

/**
 * Reads one container's log file — its rotated predecessors first when the selection reaches
 * into them — and, when following, keeps reading as the writer appends, rotates or truncates,
 * until the task exits. Yields one batch of records per read.
 *
 * Every resource (descriptors, the directory watcher, timers, the task watch) belongs to the
 * stream and is released at once when the signal aborts, the consumer returns, or it ends.
 */
export class LogFileStream implements AsyncIterable<LogRecord[]> {
  private readonly segments: (LogSegment | null)[] = [];
  private readonly waiter: ChangeWaiter;
  private exit: TaskExit | null = null;
  private exitSeenAt = 0;
  private released = false;
  private readonly onAbort = () => this.release();

  constructor(private readonly o: LogFileStreamOptions) {
    this.waiter = new ChangeWaiter(o.pollIntervalMs ?? 250);
  }

  [Symbol.asyncIterator](): AsyncIterator<LogRecord[]> {
    return this.run();
  }

  private async *run(): AsyncGenerator<LogRecord[]> {
    const { signal } = this.o;
    if (signal.aborted) return;
    signal.addEventListener('abort', this.onAbort, { once: true });
    try {
      yield* this.read();
    } catch (err) {
      if (this.released) return;
      // The daemon went away under the stream (checking the task): the gateway closes it 1012.
      if (err instanceof EngineUnavailableError) throw err;
      this.o.logger.warn({ err, path: this.o.path }, 'reading a container log failed');
      const code = isEngineGateError(err) ? err.code : 'INTERNAL';
      yield [{ type: 'error', code, message: `reading ${this.o.path} failed: ${(err as Error).message}` }];
    } finally {
      this.release();
    }
  }

  private async *read(): AsyncGenerator<LogRecord[]> {
    const { options, format } = this.o;
    let following = options.follow && this.o.task !== undefined;
    if (options.until !== undefined && options.until <= BigInt(Date.now()) * 1_000_000n) following = false;
    if (following) {
      following = await this.o.task!.begin((exit) => {
        this.exit = exit;
        this.exitSeenAt = Date.now();
        this.waiter.notify();
      });
    }
    if (this.released) return;
    if (following) this.waiter.watchDirectory(dirname(this.o.path));

    const current = await this.openCurrent();
    if (this.released) return;
    if (!current && !following) return;
    const opening: LogRecord[] = [];
    let readFrom: SegmentPosition = { index: 0, offset: 0 };
    let emitFrom: SegmentPosition | null = null;
    if (current) {
      for (const rotated of await listRotatedFiles(this.o.path, this.o.rotation)) {
        if (rotated.fileId === current.fileId) continue;
        const segment = await openLogSegment(rotated.path).catch(() => null);
        if (segment) this.segments.push(segment);
      }
      this.segments.push(current);
      if (this.released) return;
      ({ readFrom, emitFrom } = await this.startPosition(opening));
      // Rotated files before the start are not read: do not hold them open while following.
      for (let i = 0; i < readFrom.index; i++) {
        await this.segments[i]?.close();
        this.segments[i] = null;
      }
    }
    if (opening.length > 0) yield opening;

    const assembler = new RecordAssembler(format, options, emitFrom);
    let index = readFrom.index;
    let offset = readFrom.offset;
    let lines = new LineSplitter();
    // Where the line the splitter is assembling starts (it may have begun in an earlier read).
    let lineStart = offset;
    let lastGrowthAt = Date.now();
    // The end of a file (rotated away, or an older sibling read to its end): a line cannot
    // continue into the next file, so the splitter starts afresh there.
    const moveToNextSegment = async (finished: LogSegment) => {
      await finished.close();
      this.segments[index] = null;
      index++;
      offset = 0;
      lineStart = 0;
      lines = new LineSplitter();
    };
    for (;;) {
      if (this.released) return;
      const segment = this.segments[index];
      if (!segment) {
        // The log file does not exist yet (a container that has not written): wait for it.
        const created = await this.openCurrent();
        if (created) {
          this.segments.push(created);
          index = this.segments.length - 1;
          offset = 0;
          lineStart = 0;
          continue;
        }
        if (this.exit) {
          if (this.exit.exitCode !== null) yield [{ type: 'exit', exitCode: this.exit.exitCode }];
          return;
        }
        await this.waiter.wait();
        continue;
      }
      const chunk = await segment.read(offset, READ_BYTES);
      if (this.released) return;
      if (chunk.length > 0) {
        const out: LogRecord[] = [];
        lines.push(chunk, (line, cut) => {
          const end = lineStart + line.length + (cut ? 0 : 1);
          assembler.pushLine(line, cut, { index, start: lineStart, end, fileId: segment.fileId }, out);
          lineStart = end;
        });
        offset += chunk.length;
        lastGrowthAt = Date.now();
        if (out.length > 0) yield out;
        if (assembler.pastUntil) return;
        continue;
      }

      if (index < this.segments.length - 1) {
        await moveToNextSegment(segment);
        continue;
      }
      if (!following) return;

      const change = await this.checkRotation(segment, offset);
      if (this.released) return;
      if (change === 'rotated') {
        await moveToNextSegment(segment);
        continue;
      }
      if (change === 'truncated') {
        offset = 0;
        lineStart = 0;
        lines = new LineSplitter();
        yield [{ type: 'gap', reason: 'the log file was truncated; lines written just before may be lost' }];
        continue;
      }
      if (change === 'more') continue;

      if (this.exit) {
        // Writers (the shim, the CRI plugin, a logging binary) may still be flushing the last
        // lines: end only once the file has stayed quiet for a moment.
        const settleMs = this.o.exitSettleMs ?? DEFAULT_EXIT_SETTLE_MS;
        const quietFor = Date.now() - Math.max(lastGrowthAt, this.exitSeenAt);
        if (quietFor < settleMs) {
          await this.waiter.wait(settleMs - quietFor);
          continue;
        }
        const out: LogRecord[] = [];
        // The file ends without a newline: a raw log's last line is delivered as partial; a
        // timestamped format's is parsed as the entry it may be (a writer cut short).
        lines.end((line) => {
          const place = { index, start: lineStart, end: offset, fileId: segment.fileId };
          assembler.pushLine(line, !format.timestamped, place, out);
        });
        assembler.flush(out);
        if (this.exit.exitCode !== null) out.push({ type: 'exit', exitCode: this.exit.exitCode });
        if (out.length > 0) yield out;
        return;
      }
      await this.waiter.wait();
    }
  }

  /** Where reading starts and from where records are delivered, for tail/since/after. */
  private async startPosition(
    out: LogRecord[],
  ): Promise<{ readFrom: SegmentPosition; emitFrom: SegmentPosition | null }> {
    const { options, format } = this.o;
    const segments = this.segments as LogSegment[];
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

  /**
   * At the end of the current file: has the writer moved on? `rotated` queues the files to
   * read next (any rotated between two looks, then the new current file); `more` means the
   * old file grew after all (the writer appended before switching).
   */
  private async checkRotation(segment: LogSegment, offset: number): Promise<'rotated' | 'truncated' | 'more' | 'none'> {
    const stats = await stat(this.o.path).catch(() => null);
    if (!stats) return 'none'; // renamed away, the new file not created yet: keep draining
    if (fileIdOf(stats) === segment.fileId) return stats.size < offset ? 'truncated' : 'none';
    // Drain: read the old descriptor to its end before moving on.
    if ((await segment.read(offset, 1)).length > 0) return 'more';
    // The new current file first, then the rotated list: a file rotated in between is then in
    // the list (several rotations can happen between two looks).
    const current = await this.openCurrent();
    const listed = await listRotatedFiles(this.o.path, this.o.rotation);
    const at = listed.findIndex((f) => f.fileId === segment.fileId);
    let newer: RotatedFile[];
    if (at !== -1) {
      newer = listed.slice(at + 1);
    } else {
      // Our file is gone (deleted, or rewritten compressed): take the uncompressed files last
      // written after it. Compressed ones are older rotations, already read.
      const ours = await segment.mtimeNs();
      newer = listed.filter((f) => !f.compressed && f.mtimeNs > ours);
      this.o.logger.debug({ path: this.o.path, newer: newer.length }, 'the followed log file was rotated out of sight');
    }
    newer = newer.filter((f) => f.fileId !== current?.fileId);
    for (const file of newer) {
      const older = await openLogSegment(file.path).catch(() => null);
      if (older) this.segments.push(older);
    }
    if (current) this.segments.push(current);
    return 'rotated';
  }

  /** Opens the current log file; null when it does not exist (yet). */
  private async openCurrent(): Promise<LogSegment | null> {
    try {
      // Resolved again: the file may have been replaced since open() checked it.
      const path = await this.o.roots.resolve(this.o.path, 'log file');
      const segment = await openLogSegment(path);
      if (this.released) {
        await segment.close();
        return null;
      }
      return segment;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.o.signal.removeEventListener('abort', this.onAbort);
    this.o.task?.end();
    this.waiter.close();
    for (const segment of this.segments) void segment?.close().catch(() => {});
    this.segments.length = 0;
  }
}
