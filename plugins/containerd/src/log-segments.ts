import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

/** A rotated `.gz` is held in memory while read; this bounds what one may expand to. */
const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

/** One file of a container's log: the current file or a rotated one. */
export interface LogSegment {
  readonly path: string;
  /** Identifies the file across renames: its device and inode. */
  readonly fileId: string;
  size(): Promise<number>;
  /** Last modification, in ns (through the descriptor: valid after a rename or unlink). */
  mtimeNs(): Promise<bigint>;
  /** Up to `length` bytes at `position`, in a fresh buffer (records may keep views of it). */
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** A log file on disk, read through one descriptor that stays valid across renames. */
class FileSegment implements LogSegment {
  private closed = false;
  constructor(
    readonly path: string,
    readonly fileId: string,
    private readonly handle: FileHandle,
  ) {}

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  async mtimeNs(): Promise<bigint> {
    return (await this.handle.stat({ bigint: true })).mtimeNs;
  }

  async read(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}

/**
 * A rotated `.gz`: decompressed into memory on first use (a tail that stays in newer files
 * never pays for it), its descriptor closed then.
 */
class GzipSegment implements LogSegment {
  private data: Promise<Buffer> | null = null;

  constructor(
    readonly path: string,
    readonly fileId: string,
    private handle: FileHandle | null,
    private readonly modifiedNs: bigint,
  ) {}

  private contents(): Promise<Buffer> {
    this.data ??= (async () => {
      const handle = this.handle!;
      this.handle = null;
      try {
        const compressed = await readFile(handle);
        return await gunzipAsync(compressed, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
      } finally {
        await handle.close();
      }
    })();
    return this.data;
  }

  async size(): Promise<number> {
    return (await this.contents()).length;
  }

  async mtimeNs(): Promise<bigint> {
    return this.modifiedNs;
  }

  async read(position: number, length: number): Promise<Buffer> {
    const data = await this.contents();
    return data.subarray(position, Math.min(position + length, data.length));
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }
}

export function fileIdOf(stats: { dev: number; ino: number }): string {
  return `${stats.dev}:${stats.ino}`;
}

/**
 * Opens a log file without following a symlink in its last component (its directory was
 * already checked against the log roots). `.gz` files are decompressed when first read.
 */
export async function openLogSegment(path: string): Promise<LogSegment> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EINVAL' });
    const id = fileIdOf({ dev: Number(stats.dev), ino: Number(stats.ino) });
    if (path.endsWith('.gz')) return new GzipSegment(path, id, handle, stats.mtimeNs);
    return new FileSegment(path, id, handle);
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}

/**
 * A rotated file that was listed but gone (deleted, or not readable) before it could be
 * opened: read as empty, and reported by the cursor as a gap where its lines would have been.
 */
export class MissingSegment implements LogSegment {
  /** Set once the cursor has sent the gap. */
  reported = false;
  constructor(
    readonly path: string,
    readonly fileId: string,
    private readonly modifiedNs: bigint,
    readonly reason: string,
  ) {}

  async size(): Promise<number> {
    return 0;
  }

  async mtimeNs(): Promise<bigint> {
    return this.modifiedNs;
  }

  async read(): Promise<Buffer> {
    return Buffer.alloc(0);
  }

  async close(): Promise<void> {}
}

/**
 * Opens a listed rotated file. One compressed since it was listed is read as its `.gz`; one
 * gone for good becomes a `MissingSegment`, so that its loss is a gap, not silence.
 */
export async function openRotatedFile(file: RotatedFile): Promise<LogSegment> {
  try {
    return await openLogSegment(file.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'an error';
    if (code === 'ENOENT' && !file.compressed) {
      const compressed = await openLogSegment(`${file.path}.gz`).catch(() => null);
      if (compressed) return compressed;
    }
    const why = code === 'ENOENT' ? 'was deleted before it was read' : `could not be read (${code})`;
    const reason = `the rotated log file ${basename(file.path)} ${why}; its lines are lost`;
    // Not its inode: a file created later may be given that one.
    return new MissingSegment(file.path, `missing:${file.fileId}`, file.mtimeNs, reason);
  }
}

/** Where the writer puts the files it rotated out. */
export type RotationScheme =
  /** kubelet: `0.log.20240102-150405`, older ones gzipped (`….gz`). */
  | 'cri'
  /**
   * nerdctl's json-file (go-logrotate): `x-json.log.1`, `.2`, … numbered in the order they were
   * rotated, each stamped with its rotation time, possibly gzipped. (Docker numbers the other
   * way round, and a restarted logger starts again at 1, so only the mtime tells the order.)
   */
  | 'numbered'
  | 'none';

export interface RotatedFile {
  path: string;
  fileId: string;
  compressed: boolean;
  mtimeNs: bigint;
}

const CRI_SUFFIX = /^\.(\d{8}-\d{6})(\.gz)?$/;
const NUMBERED_SUFFIX = /^\.(\d{1,6})(\.gz)?$/;

/**
 * The rotated siblings of `currentPath`, oldest first. Only regular files count (a symlink
 * planted beside a log could point anywhere). While a writer compresses a file, both `x` and
 * `x.gz` exist: the uncompressed one is read.
 */
export async function listRotatedFiles(currentPath: string, scheme: RotationScheme): Promise<RotatedFile[]> {
  if (scheme === 'none') return [];
  const dir = dirname(currentPath);
  const base = basename(currentPath);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const pattern = scheme === 'cri' ? CRI_SUFFIX : NUMBERED_SUFFIX;
  const byKey = new Map<string, RotatedFile>();
  for (const name of names) {
    if (!name.startsWith(base) || name.length === base.length) continue;
    const m = pattern.exec(name.slice(base.length));
    if (!m) continue;
    const path = join(dir, name);
    const stats = await lstat(path, { bigint: true }).catch(() => undefined);
    if (!stats?.isFile()) continue;
    const compressed = m[2] !== undefined;
    const key = m[1]!;
    const existing = byKey.get(key);
    if (existing && !existing.compressed) continue;
    byKey.set(key, {
      path,
      fileId: fileIdOf({ dev: Number(stats.dev), ino: Number(stats.ino) }),
      compressed,
      mtimeNs: stats.mtimeNs,
    });
  }
  const found = [...byKey.entries()];
  if (scheme === 'cri') {
    // The stamp in the name is the rotation time; mtimes lie (gzip rewrites older files later).
    found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  } else {
    found.sort(([ka, a], [kb, b]) =>
      a.mtimeNs < b.mtimeNs ? -1 : a.mtimeNs > b.mtimeNs ? 1 : Number(ka) - Number(kb),
    );
  }
  return found.map(([, file]) => file);
}
