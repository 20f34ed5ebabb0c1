import {
  TimeCursorSequencer,
  isAfterCursor,
  type StreamName,
  type TimeCursor,
  type UnixNanos,
} from '@enginegate/plugin-api';

/** One captured line, as kept in memory. */
export interface StoredLine {
  /** Position in the process's whole output (0 = its first line), dropped lines included. */
  index: number;
  stream: StreamName;
  time: UnixNanos;
  /** Index among the lines that share `time`: the `seq` of its time cursor. */
  seq: number;
  cursor: string;
  line: Buffer;
  partial: boolean;
}

/** Memory a stored line costs beyond its bytes (object, cursor string), for the budget. */
const LINE_OVERHEAD_BYTES = 96;

// Wall-clock time in nanoseconds: Date.now() anchored once, then the monotonic hrtime, so that
// lines written within one millisecond still get distinct, increasing times.
const WALL_MINUS_MONOTONIC = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export const wallClockNanos = (): UnixNanos => WALL_MINUS_MONOTONIC + process.hrtime.bigint();

/**
 * The output of one process: lines of both streams in arrival order, stamped and given cursors
 * as they arrive, held within a byte budget (the oldest lines are dropped first). Readers wait
 * on `changed()` for more lines or the exit.
 */
export class ProcessLog {
  private lines: StoredLine[] = [];
  /** lines[head] is the oldest kept line; the array is compacted now and then. */
  private head = 0;
  private nextIndex = 0;
  private bytes = 0;
  private lastTime = 0n;
  private readonly sequencer = new TimeCursorSequencer();
  private exit: { exitCode: number } | undefined;
  private waiters = new Set<() => void>();

  constructor(private readonly maxBytes: number) {}

  /** Index of the oldest line still kept. */
  get firstIndex(): number {
    return this.nextIndex - (this.lines.length - this.head);
  }

  /** Index the next line will get: the count of lines ever written. */
  get endIndex(): number {
    return this.nextIndex;
  }

  get exitCode(): number | undefined {
    return this.exit?.exitCode;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  /** Stores a copy of `line` (the caller's buffer is a view of a pipe chunk). */
  append(stream: StreamName, line: Buffer, partial: boolean): void {
    // Times never go backwards, so cursors and since/until searches stay ordered.
    const now = wallClockNanos();
    const time = now > this.lastTime ? now : this.lastTime;
    this.lastTime = time;
    const { seq, cursor } = this.sequencer.next(time);
    this.lines.push({ index: this.nextIndex++, stream, time, seq, cursor, line: Buffer.from(line), partial });
    this.bytes += line.length + LINE_OVERHEAD_BYTES;
    this.dropOverBudget();
    this.notify();
  }

  /** The process exited; call after its last line was appended. */
  markExited(exitCode: number): void {
    if (this.exit) return;
    this.exit = { exitCode };
    this.notify();
  }

  /** The line at `index`, or undefined when it was dropped or not written yet. */
  at(index: number): StoredLine | undefined {
    if (index < this.firstIndex || index >= this.nextIndex) return undefined;
    return this.lines[this.head + (index - this.firstIndex)];
  }

  /** Index of the first kept line stamped at or after `time` (endIndex when none). */
  firstAtOrAfter(time: UnixNanos): number {
    return this.firstIndexWhere((line) => line.time >= time);
  }

  /** Index of the first kept line stamped after `time` (endIndex when none). */
  firstAfter(time: UnixNanos): number {
    return this.firstIndexWhere((line) => line.time > time);
  }

  /** Index of the first line behind `cursor`, by plugin-api's cursor rule. */
  firstBehind(cursor: TimeCursor): number {
    return this.firstIndexWhere((line) => isAfterCursor(cursor, line.time, line.seq));
  }

  /** Resolves when a line is appended or the process exits. Call `cancel` to stop waiting. */
  changed(): { promise: Promise<void>; cancel(): void } {
    let waiter!: () => void;
    const promise = new Promise<void>((resolve) => {
      waiter = () => {
        this.waiters.delete(waiter);
        resolve();
      };
    });
    this.waiters.add(waiter);
    return { promise, cancel: waiter };
  }

  /** Binary search over the kept lines for a predicate that is false, then true. */
  private firstIndexWhere(predicate: (line: StoredLine) => boolean): number {
    let low = this.head;
    let high = this.lines.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (predicate(this.lines[middle]!)) high = middle;
      else low = middle + 1;
    }
    return this.firstIndex + (low - this.head);
  }

  private dropOverBudget(): void {
    while (this.bytes > this.maxBytes && this.lines.length - this.head > 1) {
      const dropped = this.lines[this.head]!;
      this.lines[this.head] = undefined as unknown as StoredLine; // let it be collected now
      this.head += 1;
      this.bytes -= dropped.line.length + LINE_OVERHEAD_BYTES;
    }
    // Compact once the dropped front outweighs the kept lines, so the array does not grow forever.
    if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
