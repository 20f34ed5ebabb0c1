import type { Writable } from 'node:stream';
import { formatTimestamp, parseRfc3339, type StreamName } from '@enginegate/plugin-api';

/** Above this many pending bytes a batch is written at once instead of at the end of the tick. */
const FLUSH_THRESHOLD_BYTES = 256 * 1024;
const NEWLINE = Buffer.from('\n');

export interface LogPrinterOptions {
  /** Prefix each line with Docker's fixed-width time and a space, as `docker logs -t`. */
  timestamps: boolean;
  /** A destination stopped taking data: the caller should stop reading (pause the socket). */
  onBackpressure?: () => void;
  /** Every destination drained again. */
  onDrain?: () => void;
}

/**
 * Prints log lines as `docker logs` does: stdout lines to stdout, stderr lines to stderr, each as
 * its exact bytes and a newline.
 *
 * Lines are gathered and written in batches — one write per run of same-stream lines, at the end
 * of the tick — because a write per line costs more than the line at high rates. A batch is cut
 * whenever the stream changes, so the order between stdout and stderr lines is kept.
 */
export class LogPrinter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingStream: StreamName = 'stdout';
  private flushScheduled = false;
  private readonly blocked = new Set<Writable>();
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly stdout: Writable,
    private readonly stderr: Writable,
    private readonly options: LogPrinterOptions,
  ) {}

  /**
   * `time` is the record's time as the gateway sent it (fixed-width RFC3339), or null;
   * `prefix` (a merged stream's `name | `) goes before the time.
   */
  line(stream: StreamName, bytes: Buffer, time: string | null, prefix?: Buffer): void {
    if (stream !== this.pendingStream) this.flush();
    this.pendingStream = stream;
    if (prefix !== undefined) this.push(prefix);
    if (this.options.timestamps && time !== null) this.push(Buffer.from(timestampPrefix(time)));
    this.push(bytes);
    this.push(NEWLINE);
    if (this.pendingBytes >= FLUSH_THRESHOLD_BYTES) this.flush();
    else this.scheduleFlush();
  }

  /** A message of the CLI's own (a gap in the log), on stderr, in order with the lines. */
  notice(text: string): void {
    this.flush();
    this.pendingStream = 'stderr';
    this.push(Buffer.from(`enginegate: ${text}\n`));
    this.flush();
  }

  /** Writes what is pending and resolves once both destinations have taken everything. */
  async drained(): Promise<void> {
    this.flush();
    if (this.blocked.size === 0) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const destination = this.pendingStream === 'stderr' ? this.stderr : this.stdout;
    if (!destination.write(chunk) && !this.blocked.has(destination)) {
      if (this.blocked.size === 0) this.options.onBackpressure?.();
      this.blocked.add(destination);
      destination.once('drain', () => {
        this.blocked.delete(destination);
        if (this.blocked.size > 0) return;
        this.options.onDrain?.();
        const waiters = this.drainWaiters;
        this.drainWaiters = [];
        for (const resolve of waiters) resolve();
      });
    }
  }

  private push(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }
}

/**
 * Docker's `-t` prefix. The gateway already sends the fixed-width form; re-formatting through
 * plugin-api keeps the output exact even if a time arrives in another RFC3339 spelling.
 */
export function timestampPrefix(time: string): string {
  const ns = parseRfc3339(time);
  return `${ns === undefined ? time : formatTimestamp(ns)} `;
}
