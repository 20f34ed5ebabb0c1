import { InvalidArgumentError } from './errors.js';
import { quoteInput } from './input-echo.js';

/** Nanoseconds since the Unix epoch. bigint: a double loses nanoseconds past 2^53. */
export type UnixNanos = bigint;

export const NS_PER_MS = 1_000_000n;
export const NS_PER_S = 1_000_000_000n;

export function nowNanos(): UnixNanos {
  return BigInt(Date.now()) * NS_PER_MS;
}

export function msToNanos(ms: number): UnixNanos {
  return BigInt(Math.trunc(ms)) * NS_PER_MS + BigInt(Math.round((ms % 1) * 1e6));
}

export function nanosToMs(ns: UnixNanos): number {
  return Number(ns / NS_PER_MS);
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Whole seconds (rounded down, also before 1970) and the 0..999,999,999 nanoseconds after them. */
export function splitNanos(ns: UnixNanos): [seconds: bigint, nanos: bigint] {
  const secs = ns / NS_PER_S;
  const frac = ns % NS_PER_S;
  return frac < 0n ? [secs - 1n, frac + NS_PER_S] : [secs, frac];
}

/** `<seconds>.<nanoseconds>` (nine digits): the Unix-seconds form Docker's and Podman's `since`/`until` take. */
export function formatUnixSeconds(ns: UnixNanos): string {
  const [seconds, nanos] = splitNanos(ns);
  return `${seconds}.${nanos.toString().padStart(9, '0')}`;
}

/** The last second formatted: a log's lines mostly share their second, and dates are costly. */
let lastSecond: bigint | undefined;
let lastSecondText = '';

/** Docker's fixed-width form `2006-01-02T15:04:05.000000000Z`, as `docker logs -t` prints. */
export function formatTimestamp(ns: UnixNanos): string {
  const [secs, frac] = splitNanos(ns);
  if (secs !== lastSecond) {
    const d = new Date(Number(secs) * 1000);
    lastSecondText =
      `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
      `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
    lastSecond = secs;
  }
  return `${lastSecondText}.${frac.toString().padStart(9, '0')}Z`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * Parses RFC3339 / RFC3339Nano (Docker, CRI and json-file write these). Without a zone the
 * time is UTC. Returns undefined when `text` is not such a time.
 */
export function parseRfc3339(text: string): UnixNanos | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = m;
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!);
  if (Number.isNaN(ms) || +mo! < 1 || +mo! > 12 || +d! < 1 || +d! > 31 || +h! > 23 || +mi! > 59 || +s! > 60) {
    return undefined;
  }
  let ns = BigInt(ms) * NS_PER_MS;
  if (frac) ns += BigInt(frac.padEnd(9, '0'));
  if (sign) {
    const offsetNs = BigInt((+oh! * 60 + +om!) * 60) * NS_PER_S;
    ns = sign === '+' ? ns - offsetNs : ns + offsetNs;
  }
  return ns;
}

const DURATION_UNIT: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
const DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)/;

/** The longest duration Go's `time.Duration` holds (2^63 - 1 ns, about 292 years). */
export const MAX_DURATION_NANOS: UnixNanos = 2n ** 63n - 1n;

/**
 * Go's `time.ParseDuration` subset (`10m`, `1h30m`, `1.5s`); undefined when not a duration, or
 * one longer than MAX_DURATION_NANOS (as Go refuses it), so `since=` with 309 nines is a 400.
 */
export function parseDuration(text: string): UnixNanos | undefined {
  if (text.length === 0) return undefined;
  let rest = text;
  let total = 0n;
  while (rest.length > 0) {
    const m = DURATION.exec(rest);
    if (!m) return undefined;
    const token = m[0];
    const unit = /(ns|us|µs|ms|s|m|h)$/.exec(token)![1]!;
    const nanos = Math.round(Number(token.slice(0, token.length - unit.length)) * DURATION_UNIT[unit]!);
    if (!Number.isFinite(nanos) || nanos > Number(MAX_DURATION_NANOS)) return undefined;
    total += BigInt(nanos);
    if (total > MAX_DURATION_NANOS) return undefined;
    rest = rest.slice(token.length);
  }
  return total;
}

const UNIX_SECONDS = /^\d{1,12}(?:\.\d{1,9})?$/;

/**
 * A `since`/`until` value as the Docker CLI takes it: RFC3339(Nano), Unix seconds with an
 * optional fraction, or a duration meaning "that long before now".
 */
export function parseTimeParam(parameter: string, value: string, now: UnixNanos = nowNanos()): UnixNanos {
  const rfc = parseRfc3339(value);
  if (rfc !== undefined) return rfc;
  if (UNIX_SECONDS.test(value)) {
    const [whole, frac = ''] = value.split('.');
    return BigInt(whole!) * NS_PER_S + BigInt(frac.padEnd(9, '0') || '0');
  }
  const duration = parseDuration(value);
  if (duration !== undefined) return now - duration;
  throw new InvalidArgumentError(
    parameter,
    `${parameter}=${quoteInput(value)} is not a time: use RFC3339 (2024-01-02T15:04:05Z), Unix seconds (1704207845.5) or a duration (10m)`,
  );
}
