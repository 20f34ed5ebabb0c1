// The benchmarks' clients as processes of their own: a history read by history-client-process
// (timed inside the child, from its request to the last byte), and a command-line tool run to
// /dev/null (timed from spawn to exit, start-up included — what its user waits for). Also the
// rounds that take the best of each row, and the machine line every result is printed with.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The `enginegate` CLI of this checkout (its built bin). */
export const ENGINEGATE_BIN = join(HERE, '..', '..', 'packages', 'cli', 'bin', 'enginegate.mjs');

/** Runs a client script of this folder (compiled) with `args`; resolves with the JSON line it printed. */
export function runInChild<T>(script: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(HERE, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited ${code}: ${err.trim()}`));
      resolve(JSON.parse(out) as T);
    });
  });
}

/** One history read by history-client-process; resolves with the milliseconds it took. */
export async function readInChild(args: string[]): Promise<number> {
  return (await runInChild<{ ms: number }>('history-client-process.js', args)).ms;
}

/** Runs a command with its stdout and stderr to /dev/null; resolves with the wall-clock ms. */
export function timeCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const devNull = openSync('/dev/null', 'w');
  const start = performance.now();
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', devNull, devNull], env });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}`));
      else resolve(performance.now() - start);
    });
  }).finally(() => closeSync(devNull));
}

/** Each row's fastest time, and the least CPU time this process (the gateway) spent on it. */
export interface RoundsResult {
  rows: Array<[string, number]>;
  cpuMs: Array<[string, number]>;
}

/**
 * Runs every row once per round, `rounds` rounds, and keeps each row's fastest: rows measured
 * side by side in time, so that a burst of load on a shared machine hits all of them alike.
 * The CPU time of this process during a row is kept too: it is the gateway's cost when the
 * gateway runs here, and far less sensitive to other processes' load than the wall clock.
 */
export async function bestOfRounds(
  rows: Array<[string, () => Promise<number>]>,
  rounds = Number(process.env.BENCH_ROUNDS ?? 3),
): Promise<RoundsResult> {
  const best = rows.map(([name]) => [name, Infinity] as [string, number]);
  const cpu = rows.map(([name]) => [name, Infinity] as [string, number]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, [, run]] of rows.entries()) {
      const before = process.cpuUsage();
      const ms = await run();
      const used = process.cpuUsage(before);
      best[i]![1] = Math.min(best[i]![1], ms);
      cpu[i]![1] = Math.min(cpu[i]![1], (used.user + used.system) / 1000);
    }
  }
  return { rows: best, cpuMs: cpu };
}

/** One line naming the machine and its load right now (figures from a loaded machine are noisy). */
export function machineLine(): string {
  const cores = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `machine: ${cores.length} × ${cores[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, load average ${load}`;
}
