import type { LogOptions, UnixNanos } from '@enginegate/plugin-api';
import type { LibpodClient } from './libpod-client.js';
import { floorSecond } from './libpod-logs-query.js';
import { PodmanLogParser } from './podman-log-parser.js';
import type { LogStart } from './podman-log-stream.js';
import { FLUSH_STDOUT, decodeRecordCursor, type RecordPosition } from './record-position.js';
import { findTailStart } from './tail-start.js';

/** How one `open()` reads: from where, delivering from where, and up to where. */
export interface ReadPlan {
  start: LogStart;
  /** The first instant to read (undefined: the log's start). */
  readFrom: UnixNanos | undefined;
  /** follow=false with a tail: no entry past the log's end as it was when the tail was counted. */
  endAt?: RecordPosition;
  /** Nothing to read at all (`tail=0` without follow, or a tail of an empty log). */
  empty: boolean;
}

/**
 * Where a selection starts. `after` wins over `tail`: a cursor of this plugin is resumed from
 * exactly (the read starts early enough to rebuild the lines still open behind it); any other
 * time cursor (another engine's, after a switch) delivers what is stamped after its time. A
 * `tail` becomes the position of the record before the last N. `since` only filters records,
 * except that without a cursor the read starts at its second.
 */
export async function planRead(
  client: LibpodClient,
  containerId: string,
  options: LogOptions,
  signal: AbortSignal,
): Promise<ReadPlan> {
  const sinceSecond = options.since === undefined ? undefined : floorSecond(options.since);
  if (options.after?.kind === 'time') {
    const position = decodeRecordCursor(options.after);
    if (position !== undefined) {
      return { start: { kind: 'position', position }, readFrom: position.instant - position.back, empty: false };
    }
    const afterSecond = floorSecond(options.after.time);
    const readFrom = sinceSecond !== undefined && sinceSecond > afterSecond ? sinceSecond : afterSecond;
    return { start: { kind: 'after-time', time: options.after.time }, readFrom, empty: false };
  }
  if (options.tail === undefined) return { start: { kind: 'first' }, readFrom: sinceSecond, empty: false };
  if (options.tail === 0 && !options.follow) return { start: { kind: 'first' }, readFrom: undefined, empty: true };
  const tailed = await findTailStart(client, containerId, options.tail, signal);
  if (tailed.end === undefined && !options.follow)
    return { start: { kind: 'first' }, readFrom: undefined, empty: true };
  const plan: ReadPlan = {
    start: tailed.start === undefined ? { kind: 'first' } : { kind: 'position', position: tailed.start },
    readFrom: tailed.start === undefined ? undefined : tailed.start.instant - tailed.start.back,
    empty: false,
  };
  if (!options.follow && tailed.end !== undefined) plan.endAt = tailed.end;
  return plan;
}

/** The parser a plan's first read needs. */
export function parserFor(plan: ReadPlan): PodmanLogParser {
  const parser = new PodmanLogParser(plan.readFrom === undefined);
  if (plan.start.kind === 'position' && plan.start.position.k >= FLUSH_STDOUT)
    parser.dropFlushedAt(plan.start.position);
  if (plan.endAt !== undefined) parser.stopAfterEntryOf(plan.endAt);
  return parser;
}
