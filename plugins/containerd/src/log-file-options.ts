import type { LogOptions, PluginLogger } from '@enginegate/plugin-api';
import type { FreeBytes } from './disk-full.js';
import type { LogFileFormat } from './log-formats.js';
import type { LogRoots } from './log-roots.js';
import type { RotatedFile, RotationScheme } from './log-segments.js';
import type { TaskWatch } from './task-exit-monitor.js';

/** What a LogFileStream reads, for whom, and how it follows. */
export interface LogFileStreamOptions {
  /** The current log file, a real path already checked against the log roots. */
  path: string;
  format: LogFileFormat;
  rotation: RotationScheme;
  options: LogOptions;
  /** The container's task, when `options.follow` asks to follow it. */
  task?: TaskWatch;
  roots: LogRoots;
  logger: PluginLogger;
  signal: AbortSignal;
  pollIntervalMs?: number;
  /** After the task exited, the file must stay quiet this long before the stream ends. */
  exitSettleMs?: number;
  /** The writer closes the file at the task's exit (the shim's `file://` log): see exitSettleWait. */
  writerClosesAtExit?: boolean;
  /** How the full-disk check reads free space (tests replace it; default statfs). */
  freeBytes?: FreeBytes;
  /** Lists the rotated files (a test puts a writer's rotation just before the look). */
  listRotated?: (path: string, scheme: RotationScheme) => Promise<RotatedFile[]>;
}
