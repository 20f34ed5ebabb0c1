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
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readFile, readdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { aptInstall, buildBusyboxRootfs } from './busybox-rootfs.js';
import { daemonForTest, engineRequired, findOnPath, tailOfFile, trackDaemon, waitForExit } from './daemon-process.js';

const run = promisify(execFile);

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
/** The image the CRI plugin runs pod sandboxes from, and the tests' containers too. */
export const SANDBOX_IMAGE = 'enginegate.test/busybox:1';
export const CRI_NAMESPACE = 'k8s.io';

export interface ContainerdOptions {
  /** Enable the CRI plugin (pods through `runtime.v1.RuntimeService`); slower to start. */
  cri?: boolean;
  /** CRI's `max_container_log_line_size`: lines longer than this are written as P/F pieces. */
  maxContainerLogLineSize?: number;
}

export interface TaskOptions {
  id: string;
  /** `sh -c` script run by the busybox /bin/sh. */
  script: string;
  /** Default: this daemon's test namespace. */
  namespace?: string;
  /** `file:///…` or `binary:///…?…`; none: FIFOs nobody persists. */
  logUri?: string;
  labels?: Record<string, string>;
}

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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
    const d = this.dir;
    const lines = [
      'version = 2',
      `root = "${d}/root"`,
      `state = "${d}/state"`,
      '[grpc]',
      `  address = "${this.address}"`,
      '[ttrpc]',
      `  address = "${this.address}.ttrpc"`,
      '[debug]',
      `  address = "${d}/debug.sock"`,
      '[metrics]',
      '  address = ""',
    ];
    if (!this.options.cri) {
      lines.splice(1, 0, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]');
    }
    lines.push('[plugins]', '  [plugins."io.containerd.internal.v1.opt"]', `    path = "${d}/opt"`);
    if (this.options.cri) {
      lines.push(
        '  [plugins."io.containerd.grpc.v1.cri"]',
        // Root here lacks CAP_SYS_RESOURCE: without this, every container start fails.
        '    restrict_oom_score_adj = true',
        `    sandbox_image = "${SANDBOX_IMAGE}"`,
        `    max_container_log_line_size = ${this.options.maxContainerLogLineSize ?? 16384}`,
        '    [plugins."io.containerd.grpc.v1.cri".cni]',
        `      bin_dir = "${d}/cni-bin"`,
        `      conf_dir = "${d}/cni-conf"`,
      );
    }
    await writeFile(this.configFile, lines.join('\n') + '\n');
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
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`containerd exited (${child.exitCode ?? child.signalCode}): ${await tailOfFile(this.logFile)}`);
      }
      if (existsSync(this.address)) {
        try {
          await this.ctr(['version'], { timeoutMs: 2000 });
          return;
        } catch {
          // not serving yet
        }
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`containerd did not answer within ${READY_TIMEOUT_MS} ms: ${await tailOfFile(this.logFile)}`);
      }
      await sleep(50);
    }
  }

  /** SIGKILL the daemon — a crash: shims and their tasks keep running. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await waitForExit(child, STOP_TIMEOUT_MS);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.pid === undefined) return;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
      child.kill('SIGKILL');
      await waitForExit(child, STOP_TIMEOUT_MS);
    }
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
    await this.stopOwnShims();
    await this.unmountUnder();
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    // runc keeps per-namespace state dirs machine-wide; remove ours once empty (rmdir only:
    // another daemon may be using the same namespace name, e.g. k8s.io).
    for (const ns of namespaces) await rmdir(join('/run/containerd/runc', ns)).catch(() => undefined);
  }

  /** Shims of this daemon carry `-address <our socket>`: SIGKILL them by PID. */
  private async stopOwnShims(): Promise<void> {
    for (const entry of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(entry)) continue;
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      const argv = cmdline.split('\0');
      if (!argv[0]?.includes('containerd-shim')) continue;
      const at = argv.indexOf('-address');
      if (at === -1 || argv[at + 1] !== this.address) continue;
      const pid = Number(entry);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        continue;
      }
      for (let i = 0; i < 50 && processAlive(pid); i++) await sleep(20);
    }
  }

  private async unmountUnder(): Promise<void> {
    const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
    const points = mounts
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((p): p is string => p !== undefined && (p === this.dir || p.startsWith(this.dir + '/')))
      .sort((a, b) => b.length - a.length);
    for (const point of points) await run('umount', ['-l', point]).catch(() => undefined);
  }
}

/** An OCI image layout (one layer: the rootfs, command `sleep`), tarred for `ctr images import`. */
async function buildOciImageTar(dir: string, rootfs: string, name: string): Promise<string> {
  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layerTar = join(dir, 'layer.tar');
  await run('tar', ['--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
  const layer = await readFile(layerTar);
  const put = async (data: Buffer) => {
    const digest = createHash('sha256').update(data).digest('hex');
    await writeFile(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const layerBlob = await put(layer);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sleep', '2147483647'] },
      rootfs: { type: 'layers', diff_ids: [layerBlob.digest] },
    }),
  );
  const configBlob = await put(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layerBlob }],
    }),
  );
  const manifestBlob = await put(manifest);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifestBlob,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name },
        },
      ],
    }),
  );
  const tar = join(dir, 'image.tar');
  await run('tar', ['-C', layout, '-cf', tar, '.']);
  return tar;
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
 * Writes a nerdctl-style `binary://` logger: containerd's shim starts it with the container's
 * stdout on fd 3, stderr on fd 4 and a readiness pipe on fd 5, and the URI's query as argv
 * (`_NERDCTL_INTERNAL_LOGGING <data store>`). Like nerdctl's json-file driver it writes
 * `<data store>/containers/<ns>/<id>/<id>-json.log` (or opts `log-path`), one
 * `{"log","stream","time"}` object per line, rotating at `max-size` bytes into `.1`, `.2`, … as
 * go-logrotate does (numbered in rotation order, keeping `max-file` files), with the options
 * read from `<state dir>/log-config.json`.
 * Returns the URI for `--log-uri`.
 */
export async function writeNerdctlStyleLogger(dir: string, dataStore: string): Promise<string> {
  const script = join(dir, 'nerdctl-json-logger.mjs');
  await writeFile(script, `#!${process.execPath}\n${NERDCTL_LOGGER_SOURCE}`);
  await chmod(script, 0o755);
  return `binary://${script}?_NERDCTL_INTERNAL_LOGGING=${dataStore}`;
}

const NERDCTL_LOGGER_SOURCE = String.raw`
import fs from 'node:fs';
import path from 'node:path';
const dataStore = process.argv[3];
const id = process.env.CONTAINER_ID;
const ns = process.env.CONTAINER_NAMESPACE;
const stateDir = path.join(dataStore, 'containers', ns, id);
fs.mkdirSync(stateDir, { recursive: true });
let config = {};
try { config = JSON.parse(fs.readFileSync(path.join(stateDir, 'log-config.json'), 'utf8')); } catch {}
const opts = config.opts || {};
const file = opts['log-path'] || path.join(stateDir, id + '-json.log');
const maxSize = opts['max-size'] ? Number(opts['max-size']) : Infinity;
const maxFile = opts['max-file'] ? Number(opts['max-file']) : 1;
let fd = fs.openSync(file, 'a');
let size = fs.fstatSync(fd).size;
const base = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
let last = 0n;
function now() {
  let t = base + process.hrtime.bigint();
  if (t <= last) t = last + 1n;
  last = t;
  const d = new Date(Number(t / 1000000n));
  return d.toISOString().slice(0, 19) + '.' + String(t % 1000000000n).padStart(9, '0') + 'Z';
}
// As go-logrotate (nerdctl's rotation) does: the current file becomes <file>.<n+1>, stamped
// with the rotation time; the oldest backups beyond max-file - 1 (by that time) are removed.
let order = 0;
function rotate() {
  fs.closeSync(fd);
  const backup = file + '.' + (++order);
  fs.renameSync(file, backup);
  const t = new Date();
  fs.utimesSync(backup, t, t);
  const dir = path.dirname(file);
  const backups = fs.readdirSync(dir)
    .filter((n) => n.startsWith(path.basename(file) + '.'))
    .map((n) => ({ p: path.join(dir, n), m: fs.statSync(path.join(dir, n)).mtimeMs }))
    .sort((a, b) => b.m - a.m);
  for (const old of backups.slice(Math.max(0, maxFile - 1))) fs.rmSync(old.p);
  fd = fs.openSync(file, 'w');
  size = 0;
}
function write(stream, line) {
  const entry = JSON.stringify({ log: line + '\n', stream, time: now() }) + '\n';
  if (size > 0 && size + entry.length > maxSize) rotate();
  fs.writeSync(fd, entry);
  size += Buffer.byteLength(entry);
}
let open = 2;
for (const [fdNum, stream] of [[3, 'stdout'], [4, 'stderr']]) {
  let pending = '';
  const input = fs.createReadStream(null, { fd: fdNum, encoding: 'utf8' });
  input.on('data', (text) => {
    pending += text;
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) { write(stream, pending.slice(0, nl)); pending = pending.slice(nl + 1); }
  });
  input.on('end', () => { if (pending) write(stream, pending); if (--open === 0) { fs.closeSync(fd); process.exit(0); } });
}
fs.closeSync(5);
`;

/**
 * A task as nerdctl runs a named container: label `nerdctl/name`, a json-file log written by
 * the nerdctl-style logger under the daemon's log root. Resolves once the task runs; its ID is
 * returned (the name is what clients use).
 */
export async function runNerdctlStyleTask(cd: PrivateContainerd, name: string, script: string): Promise<string> {
  const dataStore = join(cd.logDir, 'nerdctl', 'named0000');
  const loggerUri = await writeNerdctlStyleLogger(cd.dir, dataStore);
  const id = uniqueId(name);
  const stateDir = join(dataStore, 'containers', cd.namespace, id);
  await mkdir(stateDir, { recursive: true });
  await writeFile(join(stateDir, 'log-config.json'), JSON.stringify({ driver: 'json-file' }));
  await cd.runTask({ id, script, logUri: loggerUri, labels: { 'nerdctl/name': name, 'nerdctl/state-dir': stateDir } });
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
