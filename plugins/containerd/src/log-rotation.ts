import type { PluginLogger } from '@enginegate/plugin-api';
import type { SegmentCursor } from './log-segment-cursor.js';
import { openRotatedFile, type LogSegment, type RotatedFile } from './log-segments.js';

/**
 * Queues the rotated `files` (oldest first), then the current file. `current` was opened
 * before `files` was listed, and the writer may have rotated it in between: it is then in the
 * list, and is read at its place there. (Appended after files rotated later than it, its lines
 * came out of order: measured at ~120 rotations/s, one file's lines after the next ~9 files'.)
 * A file queued before is not queued again: its lines would repeat.
 */
export async function queueInOrder(
  cursor: SegmentCursor,
  files: readonly RotatedFile[],
  current: LogSegment | null,
): Promise<void> {
  let currentQueued = false;
  for (const file of files) {
    if (cursor.hasQueued(file.fileId)) continue;
    if (current && file.fileId === current.fileId) {
      cursor.add(current);
      currentQueued = true;
    } else {
      cursor.add(await openRotatedFile(file));
    }
  }
  if (!current || currentQueued) return;
  if (cursor.hasQueued(current.fileId)) await current.close();
  else cursor.add(current);
}

/** The listed files rotated after `ours` (the file just read to its end), oldest first. */
export async function filesAfter(
  ours: LogSegment,
  listed: RotatedFile[],
  logger: PluginLogger,
): Promise<RotatedFile[]> {
  const at = listed.findIndex((f) => f.fileId === ours.fileId);
  if (at !== -1) return listed.slice(at + 1);
  // Our file is gone (deleted, or rewritten compressed): take the uncompressed files last
  // written after it. Compressed ones are older rotations, already read.
  const oursNs = await ours.mtimeNs();
  const newer = listed.filter((f) => !f.compressed && f.mtimeNs > oursNs);
  logger.debug({ path: ours.path, newer: newer.length }, 'the followed log file was rotated out of sight');
  return newer;
}
