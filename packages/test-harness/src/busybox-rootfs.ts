// A minimal container root filesystem made of the static busybox binary: no registry is
// reachable from CI, so the real-engine suites build their image from this offline.
//
//   const rootfs = await buildBusyboxRootfs('/tmp/x/rootfs');  // /bin/busybox + /bin/<applet> links
//   const tar = await busyboxRootfsTar('/tmp/x');              // /tmp/x/busybox-rootfs.tar (a layer tar)
import { execFile } from 'node:child_process';
import { copyFile, chmod, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isExecutable } from './daemon-process.js';

const run = promisify(execFile);

/** Where Debian's busybox-static puts its (statically linked) binary. */
export const BUSYBOX_BINARY = '/bin/busybox';

/**
 * Installs Debian packages as root when a command they provide is missing. CI starts from a
 * fresh machine; test files run in parallel, so dpkg's lock is waited for, not failed on.
 * Resolves to undefined on success, else to the reason it could not.
 */
export async function aptInstall(packages: readonly string[]): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return `installing ${packages.join(', ')} needs root`;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  try {
    await run('apt-get', [...lock, 'update', '-qq'], { env, timeout: 300_000 });
    await run('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...packages], {
      env,
      timeout: 600_000,
    });
    return undefined;
  } catch (err) {
    return `apt-get install ${packages.join(' ')} failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Makes sure the static busybox is installed; throws with the reason when it cannot be. */
export async function ensureBusybox(): Promise<string> {
  if (await isExecutable(BUSYBOX_BINARY)) return BUSYBOX_BINARY;
  const failure = await aptInstall(['busybox-static']);
  if (failure !== undefined) throw new Error(failure);
  if (!(await isExecutable(BUSYBOX_BINARY)))
    throw new Error(`${BUSYBOX_BINARY} is missing after installing busybox-static`);
  return BUSYBOX_BINARY;
}

/**
 * Creates `<dir>/bin/busybox` and one symlink per applet (`<dir>/bin/sh` → busybox, …), plus
 * the empty directories a runtime mounts over. Returns `dir`. PATH inside must be `/bin`.
 */
export async function buildBusyboxRootfs(dir: string): Promise<string> {
  const busybox = await ensureBusybox();
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  for (const sub of ['proc', 'sys', 'dev', 'etc', 'tmp']) await mkdir(join(dir, sub), { recursive: true });
  await copyFile(busybox, join(bin, 'busybox'));
  await chmod(join(bin, 'busybox'), 0o755);
  const { stdout } = await run(busybox, ['--list']);
  for (const applet of stdout.split('\n')) {
    if (applet === '' || applet === 'busybox' || applet.includes('/')) continue;
    await rm(join(bin, applet), { force: true });
    await symlink('busybox', join(bin, applet));
  }
  return dir;
}

/**
 * Builds the rootfs under `<dir>/rootfs` and tars it (entries relative to `/`) to
 * `<dir>/busybox-rootfs.tar`, ready for `docker import` or as an OCI layer. Returns the tar's path.
 */
export async function busyboxRootfsTar(dir: string): Promise<string> {
  const rootfs = await buildBusyboxRootfs(join(dir, 'rootfs'));
  const tar = join(dir, 'busybox-rootfs.tar');
  await run('tar', ['--numeric-owner', '-C', rootfs, '-cf', tar, '.']);
  return tar;
}
