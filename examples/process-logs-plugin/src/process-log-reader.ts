import type { LogOptions, LogRecord, UnixNanos } from '@enginegate/plugin-api';
import { wallClockNanos, type ProcessLog } from './process-log.js';

/** A batch holds at most this many lines… */
const MAX_BATCH_LINES = 1000;
/** …or about this many bytes: one pull never builds a huge array. */
const MAX_BATCH_BYTES = 256 * 1024;

/**
 * Where one `logs.open` starts and stops reading, worked out once, when it is opened (Docker's
 * meanings: `since`/`until` inclusive, `tail` counts both streams, `after` replaces `tail`).
 */
export function planRead(log: ProcessLog, options: LogOptions): { from: number; stop: number } {
  const { since, until, tail, after } = options;
  // Lines written by now and not after `until`: what tail counts back from.
  const writtenNow = until === undefined ? log.endIndex : Math.min(log.endIndex, log.firstAfter(until));
  let from = since === undefined ? log.firstIndex : log.firstAtOrAfter(since);
  if (after !== undefined && after.kind === 'time') from = Math.max(from, log.firstBehind(after));
  else if (tail !== undefined) from = Math.max(from, writtenNow - tail);
  // follow=false delivers what exists at open; follow=true reads on (until `until` or the exit).
  return { from, stop: options.follow ? Infinity : writtenNow };
}

/**
 * One open log stream over a ProcessLog. Lines are handed out only when pulled (pulling is the
 * backpressure); while following it waits on the log, on `until`, or on `close()` — and nothing
 * else. `close()` (abort, `return()`, process removed, engine stopped) ends it at once.
 */
export class ProcessLogReader implements AsyncIterableIterator<LogRecord[]> {
  private position: number;
  private readonly stop: number;
  private closed = false;
  private exitSent = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly log: ProcessLog,
    private readonly options: LogOptions,
    private readonly onClose: (reader: ProcessLogReader) => void,
  ) {
    const plan = planRead(log, options);
    this.position = plan.from;
    this.stop = plan.stop;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<LogRecord[]>> {
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const batch = this.collect();
      if (batch.length > 0) return { done: false, value: batch };
      if (this.finished()) {
        const exitCode = this.log.exitCode;
        if (this.options.follow && exitCode !== undefined && !this.exitSent && this.position >= this.log.endIndex) {
          // The process exited while followed and its last line is out: say how, then end.
          this.exitSent = true;
          return { done: false, value: [{ type: 'exit', exitCode }] };
        }
        this.close();
        return { done: true, value: undefined };
      }
      await this.waitForChange();
    }
  }

  async return(): Promise<IteratorResult<LogRecord[]>> {
    this.close();
    return { done: true, value: undefined };
  }

  /** Ends the stream; safe to call any number of times. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.onClose(this);
  }

  /** The next lines from the current position, of the selected streams, within the batch limits. */
  private collect(): LogRecord[] {
    const { stdout, stderr, until } = this.options;
    const batch: LogRecord[] = [];
    // Lines dropped from memory before this reader got to them: say so, then go on from the oldest kept.
    if (this.position < this.log.firstIndex) {
      const lost = this.log.firstIndex - this.position;
      this.position = this.log.firstIndex;
      batch.push({
        type: 'gap',
        reason: `${lost} lines were dropped from the in-memory log (maxLogBytes) before they were read`,
      });
    }
    let bytes = 0;
    const end = Math.min(this.log.endIndex, this.stop);
    while (this.position < end && batch.length < MAX_BATCH_LINES && bytes < MAX_BATCH_BYTES) {
      const stored = this.log.at(this.position)!;
      if (until !== undefined && stored.time > until) break; // the end: see finished()
      this.position += 1;
      if (stored.stream === 'stdout' ? !stdout : !stderr) continue;
      batch.push({
        type: 'line',
        stream: stored.stream,
        time: stored.time,
        line: stored.line,
        cursor: stored.cursor,
        ...(stored.partial ? { partial: true } : {}),
      });
      bytes += stored.line.length;
    }
    return batch;
  }

  /** True when nothing more will be delivered (the exit record aside). */
  private finished(): boolean {
    const { follow, until } = this.options;
    if (this.position >= this.stop) return true;
    const next = this.log.at(this.position);
    if (until !== undefined && next !== undefined && next.time > until) return true;
    if (!follow) return this.position >= this.log.endIndex;
    if (this.log.hasExited && this.position >= this.log.endIndex) return true;
    // Following a running process: it ends once `until` has passed.
    return until !== undefined && wallClockNanos() > until;
  }

  /** Sleeps until the log changes, `until` passes, or the reader is closed. */
  private async waitForChange(): Promise<void> {
    const change = this.log.changed();
    let timer: NodeJS.Timeout | undefined;
    const woken = new Promise<void>((resolve) => {
      this.wake = resolve;
      const { until } = this.options;
      if (until !== undefined) timer = setTimeout(resolve, msUntil(until));
    });
    try {
      await Promise.race([change.promise, woken]);
    } finally {
      change.cancel();
      clearTimeout(timer);
      this.wake = undefined;
    }
  }
}

/** Milliseconds until `time` (at least 1, at most setTimeout's ceiling). */
function msUntil(time: UnixNanos): number {
  const ms = Number((time - wallClockNanos()) / 1_000_000n) + 1;
  return Math.min(Math.max(ms, 1), 2 ** 31 - 1);
}
