import { statfs } from 'node:fs/promises';
import type { GapRecord } from '@enginegate/plugin-api';

/** A follower at the end of its log looks at the free space at most this often. */
const CHECK_INTERVAL_MS = 500;

/** Free bytes of the file system holding `path`; undefined when it cannot tell. */
export type FreeBytes = (path: string) => Promise<number | undefined>;

/** Blocks free even to root (the writers are root: blocks reserved for it still take lines). */
export const freeBytesOf: FreeBytes = async (path) => {
  try {
    const s = await statfs(path);
    return s.bfree * s.bsize;
  } catch {
    return undefined;
  }
};

export const DISK_FULL_REASON = "the log file's file system is full: lines written while it is full are lost";

/**
 * Tells a follower that waits at the end of a log file that the file system holding it is full.
 * Its writer can append nothing more then, and what the container writes meanwhile is lost:
 * without this the stream would be silent. Said once per time the disk fills: again only after
 * it had space in between.
 */
export class DiskFullWatch {
  private lastCheck = -Infinity;
  private reported = false;

  constructor(
    private readonly path: string,
    private readonly freeBytes: FreeBytes = freeBytesOf,
    private readonly intervalMs = CHECK_INTERVAL_MS,
  ) {}

  /** The gap to send when the disk has (newly) filled; undefined otherwise. */
  async check(): Promise<GapRecord | undefined> {
    const now = Date.now();
    if (now - this.lastCheck < this.intervalMs) return undefined;
    this.lastCheck = now;
    const free = await this.freeBytes(this.path);
    if (free === undefined) return undefined;
    if (free > 0) {
      this.reported = false;
      return undefined;
    }
    if (this.reported) return undefined;
    this.reported = true;
    return { type: 'gap', reason: DISK_FULL_REASON };
  }
}
