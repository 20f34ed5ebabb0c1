// A PRIVATE Docker daemon for the real-engine suites: its own data-root, exec-root, pidfile and
// unix socket under one short temp dir, no bridge and no iptables, started as a child process
// whose PID is kept (and the only thing ever signalled). It lets dockerd start its own managed
// containerd (under the exec-root), never a system one.
//
//   const dockerd = await dockerdForTest(t);          // skips (or fails, see below) when impossible
//   if (!dockerd) return;
//   const id = await runBusybox(dockerd, 'echo hi');  // a container of the offline busybox image
//
// When `ENGINEGATE_REQUIRE_ENGINES` names `moby`, a daemon that cannot be started is a test
// failure, not a skip (CI sets it: a skipped suite would hide a broken harness).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import Dockerode from 'dockerode';
import { aptInstall, busyboxRootfsTar } from './busybox-rootfs.js';
import {
  continueDaemon,
  daemonForTest,
  whyDaemonCannotRun,
  engineRequired,
  findOnPath,
  killProcessTrees,
  processAlive,
  trackDaemon,
  unmountAllUnder,
  killDaemonProcess,
  stopDaemonProcess,
  waitUntilAnswering,
} from './daemon-process.js';

export type { Dockerode };
export { runBusybox, waitForExitCode, type BusyboxContainerOptions } from './docker-containers.js';

export const BUSYBOX_IMAGE = 'enginegate-busybox:latest';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

export interface PrivateDockerd {
  /** Path of the daemon's unix socket (well under the 107-byte limit). */
  readonly socket: string;
  /** `unix://<socket>`, for DOCKER_HOST. */
  readonly host: string;
  /** A client of this daemon. */
  readonly docker: Dockerode;
  /** The busybox image, imported offline (`ENV PATH=/bin`). */
  readonly image: string;
  /** The temp dir holding everything (data-root, exec-root, socket, dockerd.log). */
  readonly dir: string;
  /** PID of the running dockerd, or undefined while stopped. */
  readonly pid: number | undefined;
  /** SIGTERM the daemon (SIGKILL after 20 s) and wait for it to exit. */
  stop(): Promise<void>;
  /** SIGKILL the daemon — a crash: its managed containerd and the containers keep running. */
  kill(): Promise<void>;
  /** Starts the daemon again on the same data-root; resolves once it answers ping. */
  start(): Promise<void>;
  /** stop() + start(). */
  restart(): Promise<void>;
  /** Removes every container, stops the daemon (and its containerd), deletes the temp dir. */
  destroy(): Promise<void>;
}

/** Installs docker.io (and what dockerd runs) when missing; resolves to a reason on failure. */
async function ensureDockerPackages(): Promise<string | undefined> {
  const missing: string[] = [];
  if (!findOnPath('dockerd')) missing.push('docker.io');
  if (!findOnPath('containerd')) missing.push('containerd');
  if (!findOnPath('runc')) missing.push('runc');
  if (missing.length === 0) return undefined;
  return aptInstall(missing);
}

class DockerdProcess implements PrivateDockerd {
  readonly socket: string;
  readonly host: string;
  readonly docker: Dockerode;
  readonly image = BUSYBOX_IMAGE;
  private child: ChildProcess | undefined;
  private readonly dataRoot: string;
  private readonly execRoot: string;
  private readonly logFile: string;

  /** `launcher`: a command that execs its arguments in a namespace (swarm-worker.ts), or none. */
  constructor(
    readonly dir: string,
    private readonly launcher: readonly string[] = [],
  ) {
    this.socket = join(dir, 'd.sock');
    this.host = `unix://${this.socket}`;
    this.dataRoot = join(dir, 'data');
    this.execRoot = join(dir, 'x');
    this.logFile = join(dir, 'dockerd.log');
    this.docker = new Dockerode({ socketPath: this.socket });
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  async start(): Promise<void> {
    if (this.pid !== undefined) return;
    const dockerd = findOnPath('dockerd') ?? 'dockerd';
    const configFile = join(this.dir, 'daemon.json');
    // An empty config: never read the machine's /etc/docker/daemon.json.
    await writeFile(configFile, '{}\n');
    const namespace = `egm-${process.pid}-${this.dir.slice(-6).replace(/[^a-zA-Z0-9]/g, '')}`;
    // A killed daemon leaves its pidfile, and dockerd refuses to start over one.
    await rm(join(this.dir, 'dockerd.pid'), { force: true });
    const log = await open(this.logFile, 'a');
    // setpriv --pdeathsig: should this process die without running any handler (a SIGKILL,
    // a test-runner timeout), the kernel still sends dockerd SIGTERM. It execs dockerd: the
    // child's PID is dockerd's.
    const setpriv = findOnPath('setpriv');
    const pdeathsig = setpriv ? [setpriv, '--pdeathsig', 'TERM', '--'] : [];
    const [command, ...prefix] = [...this.launcher, ...pdeathsig, dockerd];
    const child = spawn(
      command,
      [
        ...prefix,
        `--data-root=${this.dataRoot}`,
        `--exec-root=${this.execRoot}`,
        `--pidfile=${join(this.dir, 'dockerd.pid')}`,
        `--config-file=${configFile}`,
        `-H`,
        this.host,
        '--bridge=none',
        '--iptables=false',
        '--ip-forward=false',
        '--ip-masq=false',
        // Its own containerd namespaces: the runc state of two daemons never meets.
        `--containerd-namespace=${namespace}`,
        `--containerd-plugins-namespace=${namespace}-p`,
        // Containers that ignore SIGTERM (a shell as PID 1) must not hold up a stop for 15 s.
        '--shutdown-timeout=1',
        '--log-level=warn',
      ],
      { stdio: ['ignore', log.fd, log.fd], detached: false },
    );
    await log.close();
    this.child = child;
    trackDaemon(child);

    await waitUntilAnswering(child, {
      name: 'dockerd',
      logFile: this.logFile,
      timeoutMs: READY_TIMEOUT_MS,
      answers: () =>
        pingDaemon(this.docker, 1000).then(
          () => true,
          () => false,
        ),
      giveUp: () => this.stop(),
    });
  }

  async stop(): Promise<void> {
    await stopDaemonProcess(this.child, STOP_TIMEOUT_MS);
  }

  async kill(): Promise<void> {
    if (this.child?.pid === undefined) return;
    await killDaemonProcess(this.child, STOP_TIMEOUT_MS);
    // dockerd 20.10 cannot reconnect to a managed containerd that outlived it (the dial times
    // out), so a crash takes both down, as a crash of the machine's docker service would.
    await this.stopManagedContainerd('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async destroy(): Promise<void> {
    continueDaemon(this.child);
    if (this.pid !== undefined) {
      // A swarm (swarm.ts) is left first, or its tasks would be restarted under our feet.
      await this.docker.swarmLeave({ force: true }).catch(() => undefined);
      try {
        const containers = await this.docker.listContainers({ all: true, abortSignal: AbortSignal.timeout(5000) });
        await Promise.all(
          containers.map((c) =>
            this.docker
              .getContainer(c.Id)
              .remove({ force: true })
              .catch(() => undefined),
          ),
        );
      } catch {
        // the daemon is going away anyway
      }
    }
    await this.stop();
    // Should dockerd have failed to stop it, its containerd is still ours: stop it by its PID.
    await this.stopManagedContainerd('SIGTERM');
    // After a kill() with no start() since, container shims (and their containers) outlived it.
    await this.killLeftoverShims();
    // dockerd bind-mounts its data-root (and overlays below it); a killed one leaves them.
    await unmountAllUnder(this.dir);
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }

  private async stopManagedContainerd(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const pidFile = join(this.execRoot, 'containerd', 'containerd.pid');
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1) return;
    // Only if it really is the containerd of this exec-root (the PID could have been reused).
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if ((await processAlive(pid)) && cmdline.includes(this.execRoot)) {
      process.kill(pid, signal);
      for (let i = 0; i < 100 && (await processAlive(pid)); i++) await sleep(100);
      if (await processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    // An orphan that died stays a zombie until PID 1 reaps it, and dockerd would take that
    // zombie for a live containerd and wait on it: the pidfile must go.
    await rm(pidFile, { force: true });
  }

  /**
   * SIGKILLs the containerd shims this daemon's containerd started (their command line names
   * our exec-root) and every process below them — the containers.
   */
  private async killLeftoverShims(): Promise<void> {
    await killProcessTrees((cmdline) => cmdline.includes('containerd-shim') && cmdline.includes(this.execRoot));
  }

  async importBusyboxImage(): Promise<void> {
    const tar = await busyboxRootfsTar(join(this.dir, 'img'));
    const [repo, tag] = BUSYBOX_IMAGE.split(':');
    const progress = await this.docker.importImage(tar, { repo, tag, changes: ['ENV PATH=/bin'] });
    const output = await new Promise<string>((resolve, reject) => {
      let text = '';
      progress.on('data', (chunk: Buffer) => (text += chunk.toString()));
      progress.on('end', () => resolve(text));
      progress.on('error', reject);
    });
    if (/"error"/.test(output)) throw new Error(`docker import failed: ${output}`);
    await this.docker.getImage(BUSYBOX_IMAGE).inspect();
  }
}

/**
 * Starts a private dockerd with the busybox image imported. Resolves to `{ skip: reason }`
 * when Docker cannot run here (not root, packages missing and apt failing, daemon failing).
 */
export async function startDockerd(launcher: readonly string[] = []): Promise<PrivateDockerd | { skip: string }> {
  const cannot = await whyDaemonCannotRun('dockerd', 'dockerd', ensureDockerPackages);
  if (cannot !== undefined) return { skip: cannot };
  // Short: the socket path must stay under 107 bytes.
  const dir = await mkdtemp('/tmp/egm-');
  const daemon = new DockerdProcess(dir, launcher);
  try {
    await daemon.start();
    await daemon.importBusyboxImage();
    return daemon;
  } catch (err) {
    await daemon.destroy();
    return { skip: `private dockerd failed: ${(err as Error).message}` };
  }
}

/** Resolves when the daemon answers `/_ping` within `timeoutMs`, else rejects. */
export async function pingDaemon(docker: Dockerode, timeoutMs: number): Promise<void> {
  // dockerode's ping takes `{ abortSignal }` like its other calls; its types only list a callback.
  const ping = docker.ping.bind(docker) as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
  await ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
}

/** True when CI demands the moby suites run: a skip is then a failure. */
export function mobyRequired(): boolean {
  return engineRequired('moby');
}

/**
 * One private dockerd for a tap test (usually the file's root `t`), destroyed at its teardown.
 * Resolves to undefined after skipping the test — or failing it, when `ENGINEGATE_REQUIRE_ENGINES`
 * names `moby`.
 */
export async function dockerdForTest(t: Test): Promise<PrivateDockerd | undefined> {
  return daemonForTest(t, 'moby', await startDockerd());
}
