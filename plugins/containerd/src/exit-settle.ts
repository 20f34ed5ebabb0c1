import { fileHasWriter } from './file-writers.js';

/** A shim that has not closed the file 10 s after the exit is not waited for any longer. */
const WRITER_CLOSE_TIMEOUT_MS = 10_000;

export interface ExitSettleState {
  path: string;
  /** The file must stay quiet this long after the exit. */
  settleMs: number;
  /**
   * The writer closes the file at the exit (the shim's `file://` log): then the stream also waits
   * (10 s at most) until no process holds it for writing. Not for writers that keep it until the
   * task is deleted (nerdctl's logging binary).
   */
  writerClosesAtExit: boolean;
  /** When the exit was seen, and when a read last returned bytes (Date.now() times). */
  exitSeenAt: number;
  lastGrowthAt: number;
}

/**
 * After a task's exit, writers (the shim, the CRI plugin, a logging binary) may still be flushing
 * the last lines. Resolves 'settled' once the file has had them, else how long to wait before
 * looking again (`poll`: the stream's own poll interval).
 */
export async function exitSettleWait(s: ExitSettleState): Promise<'settled' | 'poll' | number> {
  const now = Date.now();
  const quietFor = now - Math.max(s.lastGrowthAt, s.exitSeenAt);
  if (quietFor < s.settleMs) return s.settleMs - quietFor;
  // On a loaded machine the shim's last bytes can come well after the quiet time.
  if (s.writerClosesAtExit && now - s.exitSeenAt <= WRITER_CLOSE_TIMEOUT_MS && (await fileHasWriter(s.path)) === true) {
    return 'poll';
  }
  return 'settled';
}
