// A PRIVATE containerd for the real-engine suites: its own root, state, gRPC/ttrpc/debug sockets
// and config under one short temp dir (unix socket paths stay under 107 bytes), started as a
// child process whose PID is kept and is the only daemon ever signalled. The shims it starts are
// found by the socket address on their command line and stopped by PID.
//
//   const cd = await containerdForTest(t, { cri: true });   // skips (or fails, see below)
//   if (!cd) return;
//   await cd.runTask({ id: 'a', script: 'echo hi', logUri: `file://${cd.logDir}/a.log` });
//
// When `ENGINEGATE_REQUIRE_ENGINES` names `containerd`, a daemon that cannot be started is a
// test failure, not a skip (CI sets it: a skipped suite would hide a broken harness).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { aptInstall, buildBusyboxRootfs } from './busybox-rootfs.js';
import { containerdConfig, SANDBOX_IMAGE, type ContainerdOptions, type TaskOptions } from './containerd-options.js';
import { killShimsOf } from './containerd-shims.js';
import {
  continueDaemon,
  daemonForTest,
  engineRequired,
  findOnPath,
  trackDaemon,
  unmountAllUnder,
  killDaemonProcess,
  stopDaemonProcess,
  waitUntilAnswering,
} from './daemon-process.js';
import { writeNerdctlStyleLogger } from './nerdctl-logger.js';
import { buildOciImageTar } from './oci-image.js';

export { SANDBOX_IMAGE, type ContainerdOptions, type TaskOptions } from './containerd-options.js';
export { writeNerdctlStyleLogger } from './nerdctl-logger.js';

const run = promisify(execFile);

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
export const CRI_NAMESPACE = 'k8s.io';

/** Installs containerd, runc and busybox-static when missing; resolves to a reason on failure. */
export async function ensureContainerdPackages(): Promise<string | undefined> {
  const missing = new Set<string>();
  if (!findOnPath('containerd') || !findOnPath('ctr') || !findOnPath('containerd-shim-runc-v2'))
    missing.add('containerd');
  if (!findOnPath('runc')) missing.add('runc');
  if (!existsSync('/bin/busybox')) missing.add('busybox-static');
  if (missing.size === 0) return undefined;
  return aptInstall([...missing]);
}

export class PrivateContainerd {
  /** The gRPC socket: the plugin's `address`. */
  readonly address: string;
  /** A log root for the tests' log files (`file://`, nerdctl data store, CRI pod logs). */
  readonly logDir: string;
  /** The busybox root filesystem tasks run from. */
  readonly rootfs: string;
  /** This daemon's namespace for `ctr` tasks (unique: runc's state dir is machine-wide). */
  readonly namespace: string;
  private child: ChildProcess | undefined;
  private readonly configFile: string;
  private readonly logFile: string;

  constructor(
    readonly dir: string,
    readonly options: ContainerdOptions,
  ) {
    this.address = join(dir, 'c.sock');
    this.logDir = join(dir, 'logs');
    this.rootfs = join(dir, 'rootfs');
    this.configFile = join(dir, 'config.toml');
    this.logFile = join(dir, 'containerd.log');
    this.namespace = `egc-${dir
      .slice(-6)
      .replace(/[^a-zA-Z0-9]/g, 'x')
      .toLowerCase()}`;
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  async writeConfig(): Promise<void> {
    await writeFile(this.configFile, containerdConfig(this.dir, this.address, this.options));
  }

  /** Starts (or restarts) the daemon on the same root; resolves once `ctr version` answers. */
  async start(): Promise<void> {
    if (this.pid !== undefined) return;
    const log = await open(this.logFile, 'a');
    const child = spawn(
      findOnPath('containerd') ?? 'containerd',
      ['--config', this.configFile, '--log-level', 'warn'],
      {
        stdio: ['ignore', log.fd, log.fd],
      },
    );
    await log.close();
    this.child = child;
    trackDaemon(child);
    await waitUntilAnswering(child, {
      name: 'containerd',
      logFile: this.logFile,
      timeoutMs: READY_TIMEOUT_MS,
      answers: async () =>
        existsSync(this.address) &&
        this.ctr(['version'], { timeoutMs: 2000 }).then(
          () => true,
          () => false,
        ),
      giveUp: () => this.kill(),
      everyMs: 50,
    });
  }

  /** SIGKILL the daemon — a crash: shims and their tasks keep running. */
  async kill(): Promise<void> {
    await killDaemonProcess(this.child, STOP_TIMEOUT_MS);
  }

  async stop(): Promise<void> {
    await stopDaemonProcess(this.child, STOP_TIMEOUT_MS);
  }

  async ctr(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
    const { stdout } = await run(findOnPath('ctr') ?? 'ctr', ['--address', this.address, ...args], {
      timeout: options.timeoutMs ?? 20_000,
    });
    return stdout;
  }

  /** `ctr run -d` a busybox task from the rootfs directory (no image needed). */
  async runTask(task: TaskOptions): Promise<void> {
    const args = ['-n', task.namespace ?? this.namespace, 'run', '-d'];
    if (task.logUri) args.push('--log-uri', task.logUri);
    for (const [k, v] of Object.entries(task.labels ?? {})) args.push('--label', `${k}=${v}`);
    args.push('--rootfs', this.rootfs, task.id, '/bin/sh', '-c', task.script);
    await this.ctr(args);
  }

  /** Polls `ctr task ls` until the task is STOPPED. */
  async waitForTaskStopped(id: string, namespace = this.namespace, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const out = await this.ctr(['-n', namespace, 'task', 'ls']);
      const line = out.split('\n').find((l) => l.split(/\s+/)[0] === id);
      if (!line || /STOPPED/.test(line)) return;
      await sleep(50);
    }
    throw new Error(`task ${id} did not stop within ${timeoutMs} ms`);
  }

  /** Imports the busybox rootfs as an OCI image named `name` into `namespace` (offline). */
  async importImage(namespace: string, name: string): Promise<void> {
    const tar = await buildOciImageTar(join(this.dir, 'image'), this.rootfs, name);
    await this.ctr(['-n', namespace, 'images', 'import', tar], { timeoutMs: 60_000 });
  }

  /**
   * Removes every task and container (so no shim or container process outlives the test),
   * stops the daemon, unmounts what it left mounted and deletes the temp dir.
   */
  async destroy(): Promise<void> {
    continueDaemon(this.child);
    if (this.pid === undefined && this.child) {
      // Killed by a test: start it again so that it can tear its tasks down properly.
      await this.start().catch(() => undefined);
    }
    let namespaces: string[] = [];
    if (this.pid !== undefined) {
      try {
        namespaces = (await this.ctr(['namespaces', 'ls', '-q'])).split('\n').filter(Boolean);
        for (const ns of namespaces) {
          const tasks = (await this.ctr(['-n', ns, 'tasks', 'ls', '-q'])).split('\n').filter(Boolean);
          for (const id of tasks)
            await this.ctr(['-n', ns, 'tasks', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
          for (const id of tasks) await this.ctr(['-n', ns, 'tasks', 'rm', '-f', id]).catch(() => undefined);
          const containers = (await this.ctr(['-n', ns, 'containers', 'ls', '-q'])).split('\n').filter(Boolean);
          for (const id of containers) await this.ctr(['-n', ns, 'containers', 'rm', id]).catch(() => undefined);
        }
      } catch {
        // the daemon is going away anyway
      }
    }
    await this.stop();
    await killShimsOf(this.address);
    await unmountAllUnder(this.dir);
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    // runc keeps per-namespace state dirs machine-wide; remove ours once empty (rmdir only:
    // another daemon may be using the same namespace name, e.g. k8s.io).
    for (const ns of namespaces) await rmdir(join('/run/containerd/runc', ns)).catch(() => undefined);
  }
}

/**
 * Starts a private containerd (with the busybox rootfs built, and for CRI the sandbox image
 * imported). Resolves to `{ skip: reason }` when containerd cannot run here.
 */
export async function startContainerd(options: ContainerdOptions = {}): Promise<PrivateContainerd | { skip: string }> {
  if (process.platform !== 'linux') return { skip: 'a private containerd needs Linux' };
  if (process.getuid?.() !== 0) return { skip: 'a private containerd needs root' };
  const packageFailure = await ensureContainerdPackages();
  if (packageFailure !== undefined) return { skip: packageFailure };
  const dir = await mkdtemp('/tmp/egc-');
  const daemon = new PrivateContainerd(dir, options);
  try {
    await mkdir(daemon.logDir, { recursive: true });
    await buildBusyboxRootfs(daemon.rootfs);
    await daemon.writeConfig();
    await daemon.start();
    if (options.cri) await daemon.importImage(CRI_NAMESPACE, SANDBOX_IMAGE);
    return daemon;
  } catch (err) {
    await daemon.destroy();
    return { skip: `private containerd failed: ${(err as Error).message}` };
  }
}

/** True when CI demands the containerd suites run: a skip is then a failure. */
export function containerdRequired(): boolean {
  return engineRequired('containerd');
}

/**
 * One private containerd for a tap test (usually the file's root `t`), destroyed at its
 * teardown. Resolves to undefined after skipping the test — or failing it, when
 * `ENGINEGATE_REQUIRE_ENGINES` names `containerd`.
 */
export async function containerdForTest(
  t: Test,
  options: ContainerdOptions = {},
): Promise<PrivateContainerd | undefined> {
  return daemonForTest(t, 'containerd', await startContainerd(options));
}

/** A short random suffix for task IDs (runc's state directory is shared by every daemon). */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * A task as nerdctl runs a named container: label `nerdctl/name` (and `labels`, e.g. a compose
 * project's), a json-file log written by the nerdctl-style logger under the daemon's log root.
 * Resolves once the task runs; its ID is returned (the name is what clients use).
 */
export async function runNerdctlStyleTask(
  cd: PrivateContainerd,
  name: string,
  script: string,
  labels: Record<string, string> = {},
  /** json-file options (`max-size`, `max-file`) for its log-config.json. */
  logOpts: Record<string, string> = {},
): Promise<string> {
  const dataStore = join(cd.logDir, 'nerdctl', 'named0000');
  const loggerUri = await writeNerdctlStyleLogger(cd.dir, dataStore);
  const id = uniqueId(name);
  const stateDir = join(dataStore, 'containers', cd.namespace, id);
  await mkdir(stateDir, { recursive: true });
  await writeFile(join(stateDir, 'log-config.json'), JSON.stringify({ driver: 'json-file', opts: logOpts }));
  await cd.runTask({
    id,
    script,
    logUri: loggerUri,
    labels: { ...labels, 'nerdctl/name': name, 'nerdctl/state-dir': stateDir },
  });
  return id;
}

/** Waits until `path` exists and holds at least `bytes` bytes. */
export async function waitForFile(path: string, bytes = 1, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const size = (await stat(path).catch(() => undefined))?.size ?? -1;
    if (size >= bytes) return;
    await sleep(20);
  }
  throw new Error(`${path} did not reach ${bytes} bytes within ${timeoutMs} ms`);
}
