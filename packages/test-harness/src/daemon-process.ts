// What the private-daemon harnesses (dockerd, containerd, podman) need from a daemon process:
// finding its binary, stopping it by PID if the test process ends abruptly, waiting for it to
// exit, the end of its log for error messages, and cleaning up what a killed one left behind
// (mounts, container processes).
import { execFile, type ChildProcess } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';

const run = promisify(execFile);

/** The full path of `command` on PATH, or in the sbin directories root's PATH may lack. */
export function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
    if (dir !== '' && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

/** True when `path` is a file this process may execute. */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every daemon this process started, so that an abrupt exit still stops them (by PID). */
const liveDaemons = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Remembers a started daemon until it exits; on our exit or SIGINT/SIGTERM it gets SIGTERM. */
export function trackDaemon(child: ChildProcess): void {
  liveDaemons.add(child);
  child.once('exit', () => liveDaemons.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // SIGTERM, not SIGKILL: dockerd then stops its containers and its managed containerd itself.
  const stopAll = () => {
    for (const daemon of liveDaemons) {
      if (daemon.pid !== undefined && daemon.exitCode === null && daemon.signalCode === null) {
        try {
          process.kill(daemon.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
  };
  process.on('exit', stopAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    });
  }
}

/**
 * SIGSTOPs a daemon this process started (by its PID) — a hung daemon: its sockets stay open
 * and nothing answers. Resolves to the SIGCONT that lets it go on (a no-op once it is gone).
 * A daemon's destroy() continues it too (continueDaemon), so a failed test never leaves one
 * stopped.
 */
export function freezeDaemon(daemon: { readonly pid: number | undefined }): () => void {
  const pid = daemon.pid;
  if (pid === undefined) throw new Error('the daemon is not running');
  process.kill(pid, 'SIGSTOP');
  return () => {
    if (daemon.pid === pid) process.kill(pid, 'SIGCONT');
  };
}

/** SIGCONTs a daemon this process started, should a test have left it stopped. */
export function continueDaemon(child: ChildProcess | undefined): void {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
}

/** Resolves true once `child` has exited, false after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM a daemon we started (SIGKILL after `timeoutMs`) and wait for it to exit. */
export async function stopDaemonProcess(child: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  if (child === undefined || child.pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  if (!(await waitForExit(child, timeoutMs))) {
    child.kill('SIGKILL');
    await waitForExit(child, timeoutMs);
  }
}

/** SIGKILL a daemon we started — a crash — and wait for it to exit. */
export async function killDaemonProcess(child: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  if (child === undefined || child.pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await waitForExit(child, timeoutMs);
}

export interface ReadyCheck {
  /** The daemon, in the errors: `dockerd`, `podman system service`. */
  name: string;
  logFile: string;
  timeoutMs: number;
  /** True once the daemon serves (each try bounded by itself). */
  answers(): Promise<boolean>;
  /** Ends the daemon that did not get ready in time. */
  giveUp(): Promise<void>;
  /** The pause between two tries (default 100 ms). */
  everyMs?: number;
}

/** Waits until a daemon we started answers; throws with its log's tail when it exits first or is late. */
export async function waitUntilAnswering(child: ChildProcess, check: ReadyCheck): Promise<void> {
  const deadline = Date.now() + check.timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${check.name} exited (${child.exitCode ?? child.signalCode}) before answering: ${await tailOfFile(check.logFile)}`,
      );
    }
    if (await check.answers()) return;
    if (Date.now() > deadline) {
      await check.giveUp();
      throw new Error(`${check.name} did not answer within ${check.timeoutMs} ms: ${await tailOfFile(check.logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, check.everyMs ?? 100));
  }
}

/** The last `bytes` of a daemon's log file ('' when there is none). */
export async function tailOfFile(path: string, bytes = 2000): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.slice(-bytes);
}

/** True while `pid` runs; a zombie (an orphan that PID 1 has not reaped yet) counts as gone. */
export async function processAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return false;
  // "pid (comm) S ...": the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/**
 * SIGKILLs every process whose command line `matches` (a daemon's container shims or conmons,
 * recognised by the private directory they name) and every process below them — the
 * containers. For what a killed daemon left behind; never matches by a program name alone.
 */
export async function killProcessTrees(matches: (cmdline: string) => boolean): Promise<void> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
  const parentOf = new Map<number, number>();
  const roots: number[] = [];
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    parentOf.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (matches(cmdline)) roots.push(pid);
  }
  if (roots.length === 0) return;
  const isBelow = (pid: number, ancestor: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p)) if (p === ancestor) return true;
    return false;
  };
  for (const root of roots) {
    for (const pid of pids) if (isBelow(pid, root)) killQuietly(pid);
    killQuietly(root);
  }
}

/** Unmounts every mount point at or below `dir`, deepest first (mounts can be stacked). */
export async function unmountAllUnder(dir: string): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
    const points = mountinfo
      .split('\n')
      // Field 5 is the mount point, with spaces and the like octal-escaped.
      .map((line) =>
        line.split(' ')[4]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))),
      )
      .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
      .sort((a, b) => b.length - a.length);
    if (points.length === 0) return;
    for (const point of points) await run('umount', ['-l', point]).catch(() => undefined);
  }
}

/** True when CI demands the suites of `engine` run (`ENGINEGATE_REQUIRE_ENGINES` names it): a skip is then a failure. */
export function engineRequired(engine: string): boolean {
  return (process.env.ENGINEGATE_REQUIRE_ENGINES ?? '').split(/[\s,]+/).includes(engine);
}

/**
 * A private daemon for a tap test (usually the file's root `t`), destroyed at its teardown. When
 * it could not be started: undefined, after skipping the test — or failing it, when
 * `ENGINEGATE_REQUIRE_ENGINES` names `engine`.
 */
export function daemonForTest<D extends { destroy(): Promise<void> }>(
  t: Test,
  engine: string,
  started: D | { skip: string },
): D | undefined {
  if ('skip' in started) {
    if (engineRequired(engine)) t.fail(`ENGINEGATE_REQUIRE_ENGINES includes ${engine}, but: ${started.skip}`);
    else t.test(`a private ${engine} daemon: ${started.skip}`, { skip: started.skip }, () => undefined);
    return undefined;
  }
  t.teardown(() => started.destroy());
  return started;
}

/**
 * Why a private daemon cannot run here — not Linux, not root, its packages missing and not
 * installable (`ensurePackages` installs them and says why it could not), its binary not
 * executable — or undefined when it can.
 */
export async function whyDaemonCannotRun(
  what: string,
  binary: string,
  ensurePackages: () => Promise<string | undefined>,
): Promise<string | undefined> {
  if (process.platform !== 'linux') return `a private ${what} needs Linux`;
  if (process.getuid?.() !== 0) return `a private ${what} needs root`;
  const packageFailure = await ensurePackages();
  if (packageFailure !== undefined) return packageFailure;
  if (!(await isExecutable(findOnPath(binary) ?? `/usr/bin/${binary}`))) return `${binary} is not installed`;
  return undefined;
}
