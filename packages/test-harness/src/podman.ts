// A PRIVATE Podman for the real-engine suites: its own --root, --runroot, --tmpdir, network
// config dir, events log and containers.conf under one short temp dir, and `podman system
// service` on its own unix socket, started as a child process whose PID is kept (and the only
// daemon ever signalled). Containers are made with the podman CLI on the same storage; their
// conmon processes outlive the service, as on a real machine.
//
//   const podman = await podmanForTest(t);             // skips (or fails, see below) when impossible
//   if (!podman) return;
//   const id = await runBusybox(podman, 'echo hi');    // a container of the offline busybox image
//
// Root here lacks CAP_SYS_RESOURCE: containers fail to start with the default rlimits, so the
// private containers.conf sets `default_ulimits`; `netns = "none"` needs no network. When
// `ENGINEGATE_REQUIRE_ENGINES` names `podman`, a service that cannot be started is a test
// failure, not a skip (CI sets it: a skipped suite would hide a broken harness).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { aptInstall, busyboxRootfsTar } from './busybox-rootfs.js';
import {
  daemonForTest,
  whyDaemonCannotRun,
  engineRequired,
  findOnPath,
  killProcessTrees,
  trackDaemon,
  unmountAllUnder,
  killDaemonProcess,
  stopDaemonProcess,
  waitUntilAnswering,
} from './daemon-process.js';
import { podmanEnv, podmanGlobalArgs, writePodmanConfig } from './podman-storage.js';

const run = promisify(execFile);

export const PODMAN_BUSYBOX_IMAGE = 'localhost/enginegate-busybox:latest';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface PodmanContainerOptions {
  name?: string;
  tty?: boolean;
  labels?: Record<string, string>;
  /** A pod (by name) to run in. */
  pod?: string;
  /** A Podman log driver, e.g. `none` (default: the private config's, k8s-file). */
  logDriver?: string;
  /** Start it (default true); false leaves it created. */
  start?: boolean;
  /** Bind mounts, `HOST:CONTAINER[:ro]`. */
  volumes?: string[];
}

/** Installs podman (and what it runs) when missing; resolves to a reason on failure. */
async function ensurePodmanPackages(): Promise<string | undefined> {
  const missing = new Set<string>();
  if (!findOnPath('podman')) missing.add('podman');
  if (!findOnPath('conmon')) missing.add('conmon');
  if (!findOnPath('runc')) missing.add('runc');
  if (missing.size === 0) return undefined;
  return aptInstall([...missing]);
}

/** True when CI demands the podman suites run: a skip is then a failure. */
export function podmanRequired(): boolean {
  return engineRequired('podman');
}

export class PrivatePodman {
  /** The service's unix socket (well under the 107-byte limit): the plugin's `podmanSocket`. */
  readonly socket: string;
  /** `unix://<socket>`, for CONTAINER_HOST. */
  readonly host: string;
  /** The busybox image, imported offline (`ENV PATH=/bin`, default command a long sleep). */
  readonly image = PODMAN_BUSYBOX_IMAGE;
  private child: ChildProcess | undefined;
  private readonly logFile: string;

  constructor(readonly dir: string) {
    this.socket = join(dir, 'p.sock');
    this.host = `unix://${this.socket}`;
    this.logFile = join(dir, 'podman.log');
  }

  /** PID of the running service, or undefined while stopped. */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** The global flags that keep every podman command on this private storage and state. */
  get globalArgs(): string[] {
    return podmanGlobalArgs(this.dir);
  }

  /** The environment podman runs with: only the private config files, never the machine's. */
  get env(): NodeJS.ProcessEnv {
    return podmanEnv(this.dir);
  }

  writeConfig(): Promise<void> {
    return writePodmanConfig(this.dir, this.image);
  }

  /** Runs the podman CLI on this private storage; resolves to its stdout. */
  async podman(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
    const { stdout } = await run(findOnPath('podman') ?? 'podman', [...this.globalArgs, ...args], {
      env: this.env,
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  }

  /** Starts (or restarts) `podman system service`; resolves once it answers `_ping`. */
  async start(): Promise<void> {
    if (this.pid !== undefined) return;
    await rm(this.socket, { force: true });
    const log = await open(this.logFile, 'a');
    const podman = findOnPath('podman') ?? 'podman';
    // setpriv --pdeathsig: should this process die without running any handler, the kernel still
    // sends the service SIGTERM. It execs podman: the child's PID is the service's.
    const setpriv = findOnPath('setpriv');
    const args = [...this.globalArgs, '--log-level=warn', 'system', 'service', '--time=0', this.host];
    const child = spawn(setpriv ?? podman, setpriv ? ['--pdeathsig', 'TERM', '--', podman, ...args] : args, {
      stdio: ['ignore', log.fd, log.fd],
      env: this.env,
    });
    await log.close();
    this.child = child;
    trackDaemon(child);
    await waitUntilAnswering(child, {
      name: 'podman system service',
      logFile: this.logFile,
      timeoutMs: READY_TIMEOUT_MS,
      answers: () => this.answers(1000),
      giveUp: () => this.stop(),
    });
  }

  /** True when the service answers `GET /_ping` within `timeoutMs`. */
  answers(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request(
        { socketPath: this.socket, path: '/v4.0.0/libpod/_ping', signal: AbortSignal.timeout(timeoutMs) },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        },
      );
      req.once('error', () => resolve(false));
      req.end();
    });
  }

  /** SIGTERM the service (SIGKILL after 15 s) and wait for it to exit. Containers keep running. */
  async stop(): Promise<void> {
    await stopDaemonProcess(this.child, STOP_TIMEOUT_MS);
  }

  /** SIGKILL the service — a crash. Containers (and their conmon) keep running. */
  async kill(): Promise<void> {
    await killDaemonProcess(this.child, STOP_TIMEOUT_MS);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Removes every container and pod, stops the service, deletes the temp dir. */
  async destroy(): Promise<void> {
    await this.podman(['pod', 'rm', '--all', '--force', '--time=0'], { timeoutMs: 60_000 }).catch(() => undefined);
    await this.podman(['rm', '--all', '--force', '--time=0'], { timeoutMs: 60_000 }).catch(() => undefined);
    await this.stop();
    // Should a removal have failed, the conmons of this storage (and their containers) are ours.
    await killProcessTrees((cmdline) => cmdline.includes('conmon') && cmdline.includes(this.dir));
    await unmountAllUnder(this.dir);
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }

  async importBusyboxImage(): Promise<void> {
    const tar = await busyboxRootfsTar(join(this.dir, 'img'));
    // The default command sleeps: pods use this image for their infra container too.
    await this.podman([
      'import',
      '--change',
      'ENV PATH=/bin',
      '--change',
      'CMD ["/bin/sleep", "2147483647"]',
      tar,
      this.image,
    ]);
    await rm(join(this.dir, 'img'), { recursive: true, force: true });
  }
}

/**
 * Starts a private Podman service with the busybox image imported. Resolves to `{ skip: reason }`
 * when Podman cannot run here (not root, packages missing and apt failing, service failing).
 */
export async function startPodman(): Promise<PrivatePodman | { skip: string }> {
  const cannot = await whyDaemonCannotRun('podman', 'podman', ensurePodmanPackages);
  if (cannot !== undefined) return { skip: cannot };
  // Short: the socket path must stay under 107 bytes.
  const dir = await mkdtemp('/tmp/egp-');
  const podman = new PrivatePodman(dir);
  try {
    await podman.writeConfig();
    await podman.importBusyboxImage();
    await podman.start();
    return podman;
  } catch (err) {
    await podman.destroy();
    return { skip: `private podman failed: ${(err as Error).message}` };
  }
}

/**
 * One private Podman for a tap test (usually the file's root `t`), destroyed at its teardown.
 * Resolves to undefined after skipping the test — or failing it, when `ENGINEGATE_REQUIRE_ENGINES`
 * names `podman`.
 */
export async function podmanForTest(t: Test): Promise<PrivatePodman | undefined> {
  return daemonForTest(t, 'podman', await startPodman());
}

/** Runs `sh -c script` in a detached busybox container; resolves to its full ID. */
export async function runBusybox(
  podman: PrivatePodman,
  script: string,
  options: PodmanContainerOptions = {},
): Promise<string> {
  const args = [options.start === false ? 'create' : 'run', ...(options.start === false ? [] : ['--detach'])];
  // `sh` as PID 1 ignores SIGTERM: without this, every stop waits 10 s.
  args.push('--stop-timeout=1');
  if (options.name !== undefined) args.push(`--name=${options.name}`);
  if (options.tty) args.push('--tty');
  if (options.pod !== undefined) args.push(`--pod=${options.pod}`);
  if (options.logDriver !== undefined) args.push(`--log-driver=${options.logDriver}`);
  for (const [key, value] of Object.entries(options.labels ?? {})) args.push(`--label=${key}=${value}`);
  for (const volume of options.volumes ?? []) args.push(`--volume=${volume}`);
  args.push(podman.image, 'sh', '-c', script);
  return (await podman.podman(args)).trim();
}

/** Creates a pod (its infra container runs the busybox image's sleep); resolves to its ID. */
export async function createPod(
  podman: PrivatePodman,
  name: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const args = ['pod', 'create', `--name=${name}`];
  for (const [key, value] of Object.entries(labels)) args.push(`--label=${key}=${value}`);
  return (await podman.podman(args)).trim();
}

/** Resolves once the container has exited; returns its exit code. */
export async function waitForExitCode(podman: PrivatePodman, id: string): Promise<number> {
  return Number((await podman.podman(['wait', id], { timeoutMs: 120_000 })).trim());
}
