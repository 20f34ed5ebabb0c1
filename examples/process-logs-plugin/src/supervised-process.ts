import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import {
  LineSplitter,
  formatTimestamp,
  type ContainerInfo,
  type PluginLogger,
  type StreamName,
} from '@enginegate/plugin-api';
import type { CommandSpec } from './plugin-config.js';
import { ProcessLog, wallClockNanos } from './process-log.js';

/** The exit code a shell reports for a command that could not be started. */
const CANNOT_START_EXIT_CODE = 127;

/**
 * One process started from a command, playing the part of a container: its stdout and stderr
 * are captured line by line into a ProcessLog. It runs in its own process group, so that
 * stopping it also stops what it started (`sh -c` children).
 */
export class SupervisedProcess {
  /** 64 hex digits, like a container ID, so ID prefixes work as with Docker. */
  readonly id = randomBytes(32).toString('hex');
  readonly log: ProcessLog;
  readonly createdAt = wallClockNanos();
  private readonly child: ChildProcess;
  /** Resolves once the process has exited and all of its output is in the log. */
  readonly exited: Promise<void>;

  constructor(
    readonly spec: CommandSpec,
    maxLogBytes: number,
    private readonly logger: PluginLogger,
  ) {
    this.log = new ProcessLog(maxLogBytes);
    this.child = spawn(spec.command, spec.args ?? [], {
      cwd: spec.cwd,
      env: spec.env === undefined ? process.env : { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pipesDone = [this.capture('stdout'), this.capture('stderr')];
    this.exited = new Promise<void>((resolve) => {
      // 'close' comes after both pipes ended: every line is in the log before the exit is.
      this.child.once('close', (code, signal) => {
        void Promise.all(pipesDone).then(() => {
          this.log.markExited(code ?? exitCodeOfSignal(signal));
          resolve();
        });
      });
      this.child.once('error', (err) => {
        // Spawning failed (no such command): the reason goes where a shell would put it.
        this.logger.warn(
          { process: spec.name, command: spec.command, err: err.message },
          'process could not be started',
        );
        this.log.append(
          'stderr',
          Buffer.from(`process-logs: cannot start ${JSON.stringify(spec.command)}: ${err.message}`),
          false,
        );
        this.log.markExited(CANNOT_START_EXIT_CODE);
        resolve();
      });
    });
  }

  get name(): string {
    return this.spec.name;
  }

  get running(): boolean {
    return !this.log.hasExited;
  }

  /**
   * Sends `signal` to the process group and resolves once it has exited: after `graceMs` the
   * group gets SIGKILL, and after another `graceMs` the pipes are closed from this side (a
   * process that left the group may still hold them open).
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000): Promise<void> {
    if (!this.running) return;
    this.signalGroup(signal);
    if (await this.exitedWithin(graceMs)) return;
    this.signalGroup('SIGKILL');
    if (await this.exitedWithin(graceMs)) return;
    this.logger.warn({ process: this.spec.name }, 'process output still open after SIGKILL; closing its pipes');
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    await this.exited;
  }

  private async exitedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  info(): ContainerInfo {
    return {
      id: this.id,
      names: [this.spec.name],
      image: [this.spec.command, ...(this.spec.args ?? [])].join(' '),
      state: this.running ? 'running' : 'exited',
      tty: false,
      createdAt: formatTimestamp(this.createdAt),
      labels: {},
    };
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal); // the whole group: this process and its children
    } catch {
      // Already gone.
    }
  }

  /** Splits one pipe into lines; resolves when the pipe has ended. */
  private capture(stream: StreamName): Promise<void> {
    const pipe = this.child[stream]!;
    const splitter = new LineSplitter();
    const append = (line: Buffer, partial: boolean) => this.log.append(stream, line, partial);
    return new Promise((resolve) => {
      pipe.on('data', (chunk: Buffer) => splitter.push(chunk, append));
      pipe.once('close', () => {
        splitter.end(append); // an unterminated last line is still a line
        resolve();
      });
    });
  }
}

function exitCodeOfSignal(signal: NodeJS.Signals | null): number {
  // As Docker reports a container killed by a signal: 128 + its number (137 for SIGKILL).
  return signal === null ? 0 : 128 + (constants.signals[signal] ?? 0);
}
