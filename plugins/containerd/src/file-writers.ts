import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** O_WRONLY | O_RDWR in the octal `flags:` line of /proc/PID/fdinfo/FD. */
const WRITE_ACCESS = 0o3;

/**
 * Whether any process holds `path` open for writing, read from /proc. Undefined when /proc
 * cannot tell (not Linux, or no permission to look at other processes): callers fall back to
 * waiting for quiet.
 *
 * Why: after a task exits, the shim may still be copying the last bytes of its output into a
 * `file://` log; the stream must not end before the shim has closed the file.
 */
export async function fileHasWriter(path: string): Promise<boolean | undefined> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let looked = false;
  for (const pid of pids) {
    const fdDir = join('/proc', pid, 'fd');
    let fds: string[];
    try {
      fds = await readdir(fdDir);
    } catch {
      continue; // gone, or not ours to read
    }
    looked = true;
    for (const fd of fds) {
      const target = await readlink(join(fdDir, fd)).catch(() => null);
      if (target !== path) continue;
      const info = await readFile(join('/proc', pid, 'fdinfo', fd), 'utf8').catch(() => '');
      const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & WRITE_ACCESS) !== 0) return true;
    }
  }
  return looked ? false : undefined;
}
