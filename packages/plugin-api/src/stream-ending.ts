import { setTimeout as sleep } from 'node:timers/promises';
import type { UnixNanos } from './time.js';

/** What a container's state says about a followed log stream that ended. */
export type StreamEnding = 'ended' | 'running' | { exitCode: number };

/** A container's state as far as a log stream cares, whatever the engine calls the fields. */
export interface ContainerRunState {
  /** Running, restarting or stopping: more lines may come. */
  running: boolean;
  /** Created and never started: there is no exit to tell. */
  neverStarted: boolean;
  exitCode: number;
  finishedAt: UnixNanos | undefined;
}

/**
 * Why a followed log stream ended, as far as the container's state says: it exited (an `exit`
 * record with this code), it still runs (resume), or the stream just ends (removed, never
 * started, or exited after `until`, so the exit is not part of the selection). `expectExit`:
 * the engine ended the stream itself, so its state may lag a moment behind the exit: it is
 * asked again up to three times, 50, 100 and 150 ms apart.
 */
export async function containerEnding(
  readState: () => Promise<ContainerRunState | 'removed'>,
  options: { expectExit: boolean; until: UnixNanos | undefined; signal: AbortSignal },
): Promise<StreamEnding> {
  for (let attempt = 0; ; attempt++) {
    const state = await readState();
    if (state === 'removed') return 'ended';
    if (!state.running) {
      if (state.neverStarted) return 'ended';
      if (options.until !== undefined && state.finishedAt !== undefined && state.finishedAt > options.until)
        return 'ended';
      return { exitCode: state.exitCode };
    }
    if (!options.expectExit || attempt >= 3) return 'running';
    await sleep(50 * (attempt + 1), undefined, { signal: options.signal }).catch(() => undefined);
    if (options.signal.aborted) return 'ended';
  }
}
