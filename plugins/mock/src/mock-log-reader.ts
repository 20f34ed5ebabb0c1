import { errorText, type LogRecord, type PluginLogger, type UnixNanos } from '@enginegate/plugin-api';
import type { Clock } from './clock.js';
import type { SimulatedContainer } from './simulated-container.js';

/** History is handed out in batches of at most this many lines… */
export const MAX_BATCH_LINES = 1000;
/** …or about this many bytes (a longer single line makes a batch of its own). */
export const MAX_BATCH_BYTES = 256 * 1024;
/** Lines skipped by the stream filter before the reader lets other work run. */
const SKIPPED_LINES_PER_TURN = 8192;
/** setTimeout's ceiling (about 24.8 days); a longer wait is taken in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Which lines one reader delivers, as index bounds worked out when the logs were opened. */
export interface ReadPlan {
  /** First line to deliver. */
  from: number;
  /** Lines from this index on are never delivered (`until`, or the end of `follow=false`). */
  stop: number;
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  until?: UnixNanos;
}

/**
 * One open `logs` stream. It computes lines only when pulled, so a consumer that stops
 * pulling costs nothing; while waiting for the next line it sleeps on a single timer.
 * `close()` (abort, `return()`, container removed, engine stopped) ends it exactly once.
 */
export class MockLogReader implements AsyncIterableIterator<LogRecord[]> {
  private position: number;
  private closed = false;
  private exitSent = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  /** Pulls run one after another, even when a consumer calls next() again before the last one settled. */
  private pulls: Promise<unknown> = Promise.resolve();

  constructor(
    readonly container: SimulatedContainer,
    private readonly plan: ReadPlan,
    private readonly clock: Clock,
    private readonly logger: PluginLogger,
    private readonly onClose: (reader: MockLogReader) => void,
  ) {
    this.position = plan.from;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<LogRecord[]>> {
    const pull = this.pulls.then(() => this.pull());
    // Chain on the settling only: holding the result would keep the last batch alive.
    this.pulls = pull.then(
      () => undefined,
      () => undefined,
    );
    return pull;
  }

  async return(): Promise<IteratorResult<LogRecord[]>> {
    this.close();
    return { done: true, value: undefined };
  }

  /** Ends the stream and releases its timer; safe to call any number of times. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
    this.onClose(this);
  }

  private async pull(): Promise<IteratorResult<LogRecord[]>> {
    try {
      return await this.nextBatch();
    } catch (err) {
      // A broken `lineAt` is the engine failing mid-stream: say so in-band, then end.
      this.logger.error({ err, container: this.container.name }, 'mock container failed to produce a log line');
      this.close();
      const message = errorText(err);
      return { done: false, value: [{ type: 'error', code: 'INTERNAL', message }] };
    }
  }

  private async nextBatch(): Promise<IteratorResult<LogRecord[]>> {
    const { plan, container } = this;
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const now = this.clock();
      const due = Math.min(container.writtenBy(now), plan.stop);
      if (this.position < due) {
        const batch = this.collect(due);
        if (batch.length > 0) return { done: false, value: batch };
        // Every line scanned was of an unselected stream: let other work run, then go on.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (!plan.follow || this.position >= plan.stop) {
        if (plan.follow && this.position >= container.lineCount) {
          // Following, and every line the container will ever write is delivered.
          if (container.exitCode !== undefined) {
            // The last line is written, so the container has exited: say so once, then end.
            if (!this.exitSent && (plan.until === undefined || container.exitTime! <= plan.until)) {
              this.exitSent = true;
              return { done: false, value: [{ type: 'exit', exitCode: container.exitCode }] };
            }
          } else if (plan.until === undefined || now <= plan.until) {
            // Running, but it writes nothing more: wait for `until` to pass, or until closed.
            await this.sleepUntil(plan.until === undefined ? undefined : plan.until + 1n);
            continue;
          }
        }
        this.close();
        return { done: true, value: undefined };
      }
      // Following and the next line is not written yet: sleep until it is.
      await this.sleepUntil(container.timeOf(this.position));
    }
  }

  /** Lines from the current position up to `due`, within the batch limits, of the selected streams. */
  private collect(due: number): LogRecord[] {
    const { plan, container } = this;
    const batch: LogRecord[] = [];
    let bytes = 0;
    let skipped = 0;
    while (this.position < due && batch.length < MAX_BATCH_LINES && bytes < MAX_BATCH_BYTES) {
      const record = container.lineRecord(this.position);
      this.position += 1;
      if (record.stream === 'stdout' ? plan.stdout : plan.stderr) {
        batch.push(record);
        bytes += record.line.length;
      } else if (++skipped >= SKIPPED_LINES_PER_TURN) {
        break;
      }
    }
    return batch;
  }

  /**
   * Resolves at `time` (never, when undefined) or as soon as the reader is closed. A timer
   * exists only while a pull is pending, so it is never a forgotten reader's.
   */
  private sleepUntil(time: UnixNanos | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
      if (time === undefined) return;
      const waitNs = time - this.clock();
      // Round up, and wait at least 1 ms: an early wake-up just sleeps again, it never spins.
      const waitMs = Math.min(Math.max(1, Math.ceil(Number(waitNs) / 1e6)), MAX_TIMER_MS);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wake?.();
      }, waitMs);
    });
  }
}
