import { spawn, type ChildProcess } from 'node:child_process';
import {
  LineSplitter,
  NS_PER_S,
  type LogOptions,
  type LogRecord,
  type PluginLogger,
  type UnixNanos,
} from '@enginegate/plugin-api';
import { journaldJsonFormat } from './log-formats.js';
import { RecordAssembler } from './record-assembler.js';
import type { TaskExit, TaskWatch } from './task-exit-monitor.js';

export interface JournaldStreamOptions {
  /** SYSLOG_IDENTIFIER of the container's entries. */
  identifier: string;
  journalctlPath: string;
  options: LogOptions;
  task?: TaskWatch;
  logger: PluginLogger;
  signal: AbortSignal;
  exitSettleMs?: number;
}

/** `@<seconds>.<microseconds>`: journalctl's absolute time syntax. */
function journalTime(ns: UnixNanos): string {
  const micros = (ns % NS_PER_S) / 1000n;
  return `@${ns / NS_PER_S}.${micros.toString().padStart(6, '0')}`;
}

/**
 * The logs of a container whose nerdctl log driver is journald, read through
 * `journalctl -o json` (one child process per stream, killed by its PID when the stream ends).
 * Backpressure: the child's stdout is read only as fast as the consumer pulls.
 */
export class JournaldStream implements AsyncIterable<LogRecord[]> {
  private child: ChildProcess | null = null;
  private exit: TaskExit | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private released = false;
  private readonly onAbort = () => this.release();

  constructor(private readonly o: JournaldStreamOptions) {}

  [Symbol.asyncIterator](): AsyncIterator<LogRecord[]> {
    return this.run();
  }

  journalctlArgs(following: boolean): string[] {
    const { options, identifier } = this.o;
    const args = ['--output=json', '--no-pager', `SYSLOG_IDENTIFIER=${identifier}`];
    const from = options.after?.kind === 'time' ? options.after.time : options.since;
    if (from !== undefined) args.push(`--since=${journalTime(from)}`);
    if (options.until !== undefined) args.push(`--until=${journalTime(options.until)}`);
    if (options.tail !== undefined && options.after === undefined) args.push(`--lines=${options.tail}`);
    if (following) args.push('--follow');
    return args;
  }

  private async *run(): AsyncGenerator<LogRecord[]> {
    const { signal, options } = this.o;
    if (signal.aborted) return;
    signal.addEventListener('abort', this.onAbort, { once: true });
    try {
      const began = options.follow ? await this.o.task?.begin((exit) => this.onTaskExit(exit)) : undefined;
      const following = began === 'running';
      // A task that had already ended: its exit goes after the history, as when followed.
      const endedBefore = began === undefined || began === 'running' ? null : began;
      if (this.released) return;

      const child = spawn(this.o.journalctlPath, this.journalctlArgs(following), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        if (stderr.length < 4096) stderr += text;
      });
      const spawned = new Promise<Error | null>((resolve) => {
        child.once('spawn', () => resolve(null));
        child.once('error', (err) => resolve(err));
      });
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      const spawnError = await spawned;
      if (spawnError) {
        this.o.logger.warn({ err: spawnError, journalctl: this.o.journalctlPath }, 'journalctl could not be started');
        yield [
          {
            type: 'error',
            code: 'LOGS_UNSUPPORTED',
            message: `journalctl could not be started: ${spawnError.message}`,
          },
        ];
        return;
      }

      const assembler = new RecordAssembler(journaldJsonFormat, options);
      const lines = new LineSplitter();
      for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
        if (this.released) return;
        if (this.exit) this.scheduleKill(); // output after the exit: wait for more quiet
        const out: LogRecord[] = [];
        lines.pushRanges(chunk, (buf, start, end, cut) =>
          assembler.pushLine(buf, start, end, cut, { index: 0, start: 0, end: 0, fileId: '' }, out),
        );
        if (out.length > 0) yield out;
        if (assembler.pastUntil) return;
      }
      const code = await exited;
      if (this.released) return;
      const exit = this.exit ?? endedBefore;
      if (exit) {
        if (exit.exitCode !== null) yield [{ type: 'exit', exitCode: exit.exitCode }];
        return;
      }
      if (code !== 0 && code !== null) {
        this.o.logger.warn({ code, stderr, journalctl: this.o.journalctlPath }, 'journalctl failed');
        yield [{ type: 'error', code: 'INTERNAL', message: `journalctl exited with ${code}: ${stderr.trim()}` }];
      }
    } finally {
      this.release();
    }
  }

  private onTaskExit(exit: TaskExit): void {
    this.exit = exit;
    this.scheduleKill();
  }

  /** `journalctl --follow` never ends by itself: stop it once the journal stayed quiet after the exit. */
  private scheduleKill(): void {
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.child?.kill('SIGTERM'), this.o.exitSettleMs ?? 300);
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.o.signal.removeEventListener('abort', this.onAbort);
    this.o.task?.end();
    if (this.killTimer) clearTimeout(this.killTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}
