// What both private-daemon harnesses (dockerd, containerd) need from a daemon process: finding
// its binary, stopping it by PID if the test process ends abruptly, waiting for it to exit,
// and the end of its log for error messages.
import type { ChildProcess } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

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

/** The last `bytes` of a daemon's log file ('' when there is none). */
export async function tailOfFile(path: string, bytes = 2000): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.slice(-bytes);
}
