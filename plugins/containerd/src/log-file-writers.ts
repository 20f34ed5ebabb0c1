import { readdir, readFile, readlink } from 'node:fs/promises';

/** O_ACCMODE bits of a descriptor's flags: 1 write-only, 2 read-write. */
const ACCESS_MODE_MASK = 0o3;

/**
 * Whether any process holds `path` open for writing, read from /proc (Linux): the shim, the CRI
 * plugin or a logging binary keeps a container's log file open until it has written the last
 * line. Resolves undefined where /proc cannot tell (not Linux, no permission to look).
 *
 * Only called once a followed task has exited and its file has gone quiet, so a scan of every
 * process's descriptors (a few milliseconds) is paid once per stream, not per line.
 */
export async function fileHasWriter(path: string, proc = '/proc'): Promise<boolean | undefined> {
  let pids: string[];
  try {
    pids = (await readdir(proc)).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  let sawAnyDescriptor = false;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`${proc}/${pid}/fd`);
    } catch {
      continue; // gone meanwhile, or not ours to look at
    }
    sawAnyDescriptor ||= fds.length > 0;
    for (const fd of fds) {
      if (await isWriterOf(`${proc}/${pid}`, fd, path)) return true;
    }
  }
  return sawAnyDescriptor ? false : undefined;
}

async function isWriterOf(processDir: string, fd: string, path: string): Promise<boolean> {
  try {
    if ((await readlink(`${processDir}/fd/${fd}`)) !== path) return false;
    const info = await readFile(`${processDir}/fdinfo/${fd}`, 'utf8');
    const flags = /^flags:\s+([0-7]+)$/m.exec(info)?.[1];
    return flags !== undefined && (parseInt(flags, 8) & ACCESS_MODE_MASK) !== 0;
  } catch {
    return false; // closed meanwhile
  }
}
