import type { UnixNanos } from '@enginegate/plugin-api';

/** Reads the current time; the engine takes one so tests can pin the clock. */
export type Clock = () => UnixNanos;

// Wall-clock time at nanosecond resolution: Date.now() is whole milliseconds, so anchor the
// monotonic hrtime to it once. Real engines stamp lines in nanoseconds; so does the mock.
const WALL_MINUS_MONOTONIC = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export const systemClock: Clock = () => WALL_MINUS_MONOTONIC + process.hrtime.bigint();
