// What the moby plugin asks Docker's /containers/{id}/logs for a selection, and why it asks a
// little more than the selection (STREAM_SKEW_NS).
import { NS_PER_MS, nowNanos, type LogOptions, type TimeCursor, type UnixNanos } from '@enginegate/plugin-api';
import type { DockerLogsQuery } from './docker-client.js';
import { toDockerTimeParam } from './docker-timestamp.js';

/**
 * How far apart in time neighbouring entries of the two streams can sit in Docker's log. Each
 * stream is stamped on its own as Docker copies it, so stdout and stderr entries are not in
 * time order: a stderr line stamped just before a stdout line can come after it. Hence:
 * - Docker stops reading at the first entry after `until`: it is asked this much more, and the
 *   exact `until` is applied to the records here;
 * - a cursor resumes by position, not by time: Docker is asked from this much before the
 *   cursor's time, and records are skipped until the cursor's own record has passed.
 */
export const STREAM_SKEW_NS = 1_000_000_000n;

/**
 * The Docker logs query for a selection. Timestamps are asked for (every record carries its
 * time and cursor), except for a whole finished read that wants neither (`linesOnly`, no
 * `tail`, `since`, `until` or cursor: nothing to place by time): Docker then sends less and
 * does less. Both streams are always read and the selection applied here,
 * so cursors number the same records whatever `stdout`/`stderr` a client selects. From a
 * cursor (`after=`, a tail start, a resume) it asks from STREAM_SKEW_NS before the cursor's
 * time and no `tail`. An `until` already past turns a follow into a read; Docker gets a later
 * `until` and the exact one is applied to the records.
 */
export function dockerLogsQuery(
  options: LogOptions,
  from: TimeCursor | undefined,
  now: UnixNanos = nowNanos(),
): DockerLogsQuery {
  const follow = options.follow && (options.until === undefined || options.until >= now);
  const untimed =
    options.linesOnly === true &&
    !options.follow &&
    from === undefined &&
    options.tail === undefined &&
    options.since === undefined &&
    options.until === undefined;
  const query: DockerLogsQuery = { follow, stdout: true, stderr: true, timestamps: !untimed };
  let since = options.since;
  if (from !== undefined) {
    const resumeFrom = from.time > STREAM_SKEW_NS ? from.time - STREAM_SKEW_NS : 0n;
    if (since === undefined || resumeFrom > since) since = resumeFrom;
  } else if (options.tail !== undefined) {
    query.tail = String(options.tail);
  }
  if (since !== undefined) query.since = toDockerTimeParam(since);
  if (options.until !== undefined) query.until = toDockerTimeParam(options.until + STREAM_SKEW_NS);
  return query;
}

/** setTimeout's limit; an `until` further away than ~24 days is never reached by a timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Docker does not end a follow at `until`: a timer calls `reached` once it has passed. Docker
 * stamps a line as it copies it, a moment before it logs it: 50 ms past `until`, every line
 * stamped up to it is in the log for the read that follows.
 */
export function whenUntilPassed(options: LogOptions, reached: () => void): NodeJS.Timeout | undefined {
  if (options.until === undefined) return undefined;
  const waitMs = Number((options.until - nowNanos()) / NS_PER_MS) + 50;
  return waitMs < MAX_TIMER_MS ? setTimeout(reached, Math.max(0, waitMs)) : undefined;
}
