import { NS_PER_S, formatUnixSeconds, nowNanos, type LogOptions, type UnixNanos } from '@enginegate/plugin-api';
import type { LibpodLogsQuery } from './libpod-client.js';

/** The whole second at or before `ns`. */
export function floorSecond(ns: UnixNanos): UnixNanos {
  const rest = ns % NS_PER_S;
  return rest < 0n ? ns - rest - NS_PER_S : ns - rest;
}

/**
 * Podman keeps entries stamped strictly before its `until`, by the log's own (nanosecond) times,
 * while the API shows whole seconds. A record stamped second S is in a selection up to `until`
 * when S <= until: so Podman is asked for everything before the next whole second, and the
 * exact `until` is applied to the records.
 */
export function untilExclusive(options: LogOptions): UnixNanos | undefined {
  return options.until === undefined ? undefined : floorSecond(options.until) + NS_PER_S;
}

/**
 * The logs query that reads from the entries stamped `readFrom` on (Podman's `since` keeps
 * entries stamped strictly after it), up to `until` (see untilExclusive). Timestamps and both
 * streams are always asked for: every record has its time and position whatever the selection,
 * which is applied to the records. An `until` already past turns a follow into a read.
 */
export function libpodLogsQuery(
  options: LogOptions,
  readFrom: UnixNanos | undefined,
  now: UnixNanos = nowNanos(),
): LibpodLogsQuery {
  const until = untilExclusive(options);
  const query: LibpodLogsQuery = {
    follow: options.follow && (until === undefined || until > now),
    stdout: true,
    stderr: true,
    timestamps: true,
  };
  if (readFrom !== undefined && readFrom > 0n) query.since = formatUnixSeconds(readFrom - 1n);
  if (until !== undefined) query.until = formatUnixSeconds(until);
  return query;
}
