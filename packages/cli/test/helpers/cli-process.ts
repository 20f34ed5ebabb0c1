// Runs the real `dist/bin.js` as a child process, and stops it by PID.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

/** The environment of a CLI run: nothing from the developer's own gateway leaks in. */
export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of [
    'ENGINEGATE_URL',
    'ENGINEGATE_TOKEN',
    'ENGINEGATE_STATE_DIR',
    'DOCKER_HOST',
    'CONTAINERD_ADDRESS',
    'CONTAINER_HOST',
  ])
    delete env[key];
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

/** Starts the CLI; the caller reads its streams and must `stop()` it (teardown does too). */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  readonly exited: Promise<CliResult>;

  constructor(args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
    this.child = spawn(process.execPath, [CLI_BIN, ...args], {
      env,
      ...(cwd !== undefined && { cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }) as unknown as ChildProcessWithoutNullStreams;
    this.child.stdout.on('data', (chunk: Buffer) => this.out.push(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => this.err.push(chunk));
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => resolve({ code, signal, ...this.output() }));
    });
  }

  output(): Omit<CliResult, 'code' | 'signal'> {
    const stdoutBytes = Buffer.concat(this.out);
    return { stdout: stdoutBytes.toString(), stdoutBytes, stderr: Buffer.concat(this.err).toString() };
  }

  /** Resolves once `predicate` holds for the output so far; rejects after `timeoutMs`. */
  async waitFor(
    predicate: (output: { stdout: string; stderr: string }) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (predicate(this.output())) return;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`the CLI exited before ${what}: ${JSON.stringify(this.output())}`);
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.output()).slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the process by its PID (SIGTERM, then SIGKILL after 3 s). */
  async stop(): Promise<CliResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }
}

/** Runs the CLI to completion (killed after `timeoutMs`), in `cwd` (default this process's). */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 20_000,
  cwd?: string,
): Promise<CliResult> {
  const cli = new CliProcess(args, env, cwd);
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
  const result = await cli.exited;
  clearTimeout(timer);
  return result;
}
