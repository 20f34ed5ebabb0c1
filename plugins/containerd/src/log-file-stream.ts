import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EngineUnavailableError, isEngineGateError, type LogRecord } from '@enginegate/plugin-api';
import { ChangeWaiter } from './change-waiter.js';
import { DiskFullWatch } from './disk-full.js';
import { exitSettleWait } from './exit-settle.js';
import { DEFAULT_EXIT_SETTLE_MS } from './plugin-config.js';
import type { LogFileStreamOptions } from './log-file-options.js';
import { SegmentCursor } from './log-segment-cursor.js';
import { filesAfter, queueInOrder } from './log-rotation.js';
import { fileIdOf, listRotatedFiles, openLogSegment, type LogSegment, type RotatedFile } from './log-segments.js';
import type { TaskExit } from './task-exit-monitor.js';

export type { LogFileStreamOptions } from './log-file-options.js';

/** What one follow step sends, and whether the stream ends with it. */
interface FollowStep {
  records: LogRecord[];
  done: boolean;
}

const AGAIN: FollowStep = { records: [], done: false };
const exitRecords = (exit: TaskExit): LogRecord[] =>
  exit.exitCode === null ? [] : [{ type: 'exit', exitCode: exit.exitCode }];

/**
 * Reads one container's log file — its rotated predecessors first when the selection reaches
 * into them — and, when following, keeps reading as the writer appends, rotates or truncates,
 * until the task exits. Yields one batch of records per read.
 *
 * Reading is the `SegmentCursor`'s (where in which file, lines, records); this class decides
 * what happens at the end of what the files hold so far: end, or one `follow` step (rotation,
 * truncation, a file still to be created, the task's exit).
 *
 * Every resource (descriptors, the directory watcher, timers, the task watch) belongs to the
 * stream and is released at once when the signal aborts, the consumer returns, or it ends.
 */
export class LogFileStream implements AsyncIterable<LogRecord[]> {
  private readonly cursor: SegmentCursor;
  private readonly waiter: ChangeWaiter;
  private readonly diskFull: DiskFullWatch;
  private exit: TaskExit | null = null;
  private exitSeenAt = 0;
  /** When a read last returned bytes: the file must be quiet for a while after the exit. */
  private lastGrowthAt = 0;
  private released = false;
  private readonly onAbort = () => this.release();

  constructor(private readonly o: LogFileStreamOptions) {
    this.waiter = new ChangeWaiter(o.pollIntervalMs ?? 250);
    this.cursor = new SegmentCursor(o.format, o.options);
    this.diskFull = new DiskFullWatch(o.path, o.freeBytes);
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
    const began = await this.beginFollowing();
    yield* this.readFiles(began === 'running');
    // Asked to follow a task that had already ended: its history, then its exit, as Docker's.
    const ended = began === null || began === 'running' || this.released ? [] : exitRecords(began);
    if (ended.length > 0) yield ended;
  }

  private async *readFiles(following: boolean): AsyncGenerator<LogRecord[]> {
    if (this.released) return;
    if (following) this.waiter.watchDirectory(dirname(this.o.path));
    const opening = await this.openSegments(following);
    if (!opening) return;
    if (opening.length > 0) yield opening;

    const cursor = this.cursor;
    this.lastGrowthAt = Date.now();
    for (;;) {
      if (this.released) return;
      if (cursor.segment) {
        const records = await cursor.read();
        if (this.released) return;
        if (records) {
          this.lastGrowthAt = Date.now();
          if (records.length > 0) yield records;
          if (cursor.pastUntil) return;
          continue;
        }
        if (!cursor.onLastSegment) {
          await cursor.nextSegment();
          continue;
        }
      }
      if (!following) return;
      const step = await this.follow();
      if (step.records.length > 0) yield step.records;
      if (step.done) return;
    }
  }

  /**
   * Whether to follow: asked for, with a task, `until` not yet past, and the task running. The
   * exit callback is registered before the task is checked, so that no exit falls in between.
   */
  private async beginFollowing(): Promise<'running' | TaskExit | null> {
    const { options, task } = this.o;
    if (!options.follow || !task) return null;
    if (options.until !== undefined && options.until <= BigInt(Date.now()) * 1_000_000n) return null;
    return task.begin((exit) => {
      this.exit = exit;
      this.exitSeenAt = Date.now();
      this.waiter.notify();
    });
  }

  /**
   * Queues the rotated files and the current one, and places the cursor for the selection.
   * Resolves the records to send first (perhaps a gap), or null when there is nothing to read
   * and nothing to follow.
   */
  private async openSegments(following: boolean): Promise<LogRecord[] | null> {
    const current = await this.openCurrent();
    if (this.released) return null;
    // No current file may only mean a rotation between its rename and the new file (measured:
    // a history read then had no line at all): the rotated files are read all the same.
    const rotated = await this.listRotated();
    if (!current && rotated.length === 0) return following ? [] : null;
    await queueInOrder(this.cursor, rotated, current);
    if (this.released) return null;
    const opening: LogRecord[] = [];
    await this.cursor.start(opening);
    return opening;
  }

  /** One step at the end of what the files hold so far, while following. */
  private async follow(): Promise<FollowStep> {
    const cursor = this.cursor;
    const segment = cursor.segment;
    if (!segment) return this.awaitCurrentFile();
    const change = await this.checkRotation(segment, cursor.position);
    if (this.released) return { records: [], done: true };
    if (change === 'rotated') {
      await cursor.nextSegment();
      return AGAIN;
    }
    if (change === 'truncated') {
      cursor.restart();
      const reason = 'the log file was truncated; lines written just before may be lost';
      return { records: [{ type: 'gap', reason }], done: false };
    }
    if (change === 'more') return AGAIN;
    if (this.exit) return this.settleAfterExit(this.exit);
    // Nothing new: a full disk means the writer is losing lines, which the client must hear.
    const full = await this.diskFull.check();
    if (full) return { records: [full], done: false };
    await this.waiter.wait();
    return AGAIN;
  }

  /** The log file does not exist (yet: a container that has not written): wait for it. */
  private async awaitCurrentFile(): Promise<FollowStep> {
    const created = await this.openCurrent();
    if (created) {
      this.cursor.add(created);
      return AGAIN;
    }
    if (this.exit) return { records: exitRecords(this.exit), done: true };
    await this.waiter.wait();
    return AGAIN;
  }

  /** The task exited: end once the file has had its last lines (see exitSettleWait). */
  private async settleAfterExit(exit: TaskExit): Promise<FollowStep> {
    const wait = await exitSettleWait({
      path: this.o.path,
      settleMs: this.o.exitSettleMs ?? DEFAULT_EXIT_SETTLE_MS,
      writerClosesAtExit: this.o.writerClosesAtExit ?? false,
      exitSeenAt: this.exitSeenAt,
      lastGrowthAt: this.lastGrowthAt,
    });
    if (wait !== 'settled') {
      await this.waiter.wait(wait === 'poll' ? undefined : wait);
      return AGAIN;
    }
    // The writer may have added its last bytes (and closed) while this was being decided.
    const late = await this.cursor.read();
    if (late !== null) {
      this.lastGrowthAt = Date.now();
      return { records: late, done: false };
    }
    return { records: [...this.cursor.finish(), ...exitRecords(exit)], done: true };
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
    const listed = await this.listRotated();
    await queueInOrder(this.cursor, await filesAfter(segment, listed, this.o.logger), current);
    return 'rotated';
  }

  private listRotated(): Promise<RotatedFile[]> {
    return (this.o.listRotated ?? listRotatedFiles)(this.o.path, this.o.rotation);
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
    this.cursor.close();
  }
}
