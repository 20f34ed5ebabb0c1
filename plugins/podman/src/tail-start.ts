import { DockerLogEntryReader, type UnixNanos } from '@enginegate/plugin-api';
import type { LibpodClient } from './libpod-client.js';
import { floorSecond, libpodLogsQuery } from './libpod-logs-query.js';
import { PodmanLogParser } from './podman-log-parser.js';
import type { RecordPosition } from './record-position.js';

interface CountedRecord {
  position: RecordPosition;
  trusted: boolean;
}

export interface TailStart {
  /** The record right before the first of the last N: delivery starts behind it (undefined: the log has N lines or fewer). */
  start: RecordPosition | undefined;
  /** The last record when the log was counted (undefined: the log is empty). */
  end: RecordPosition | undefined;
}

/** Podman's own `tail` is given up on past this many entries: the whole log is counted instead. */
const MAX_TAIL_ENTRIES = 1 << 22;

/**
 * Where `tail=N` starts, counted in whole lines of both streams (as `docker logs --tail`).
 * Podman 4's own `tail` counts conmon's entries (8 KiB pieces and unterminated output each
 * count) and joins pieces differently from a plain read, so it only serves to guess a time:
 * the earliest entry of its last N+1 (more, while that is too little). From that second on the
 * log is read and its records counted; the guess holds when the last N+1 records are all
 * `trusted` (the same as a read from the log's start gives). Otherwise, or when the guess stops
 * moving back, the whole log is counted.
 */
export async function findTailStart(
  client: LibpodClient,
  containerId: string,
  tail: number,
  signal: AbortSignal,
): Promise<TailStart> {
  let previous: UnixNanos | undefined;
  for (let entries = tail + 1; entries <= MAX_TAIL_ENTRIES; entries *= 4) {
    const guess = await earliestOfLastEntries(client, containerId, entries, signal);
    if (guess === undefined) return { start: undefined, end: undefined }; // an empty log
    if (previous !== undefined && guess >= previous) break;
    previous = guess;
    const counted = await lastRecords(client, containerId, floorSecond(guess), tail + 1, signal);
    if (counted.length === tail + 1 && counted.every((r) => r.trusted)) {
      return { start: counted[0]!.position, end: counted.at(-1)!.position };
    }
  }
  const counted = await lastRecords(client, containerId, undefined, tail + 1, signal);
  return {
    start: counted.length === tail + 1 ? counted[0]!.position : undefined,
    end: counted.at(-1)?.position,
  };
}

/** The time of the earliest of the last `entries` entries, by Podman's own `tail`. */
async function earliestOfLastEntries(
  client: LibpodClient,
  containerId: string,
  entries: number,
  signal: AbortSignal,
): Promise<UnixNanos | undefined> {
  const reader = new DockerLogEntryReader();
  let earliest: UnixNanos | undefined;
  const response = await client.openLogs(
    containerId,
    { follow: false, stdout: true, stderr: true, timestamps: true, tail: String(entries) },
    signal,
  );
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      reader.push(chunk, (_stream, time) => {
        if (earliest === undefined || time < earliest) earliest = time;
      });
    }
  } finally {
    response.destroy();
  }
  return earliest;
}

/** Reads the log from `readFrom` (undefined: its start) and keeps the positions of its last `count` records, oldest first. */
async function lastRecords(
  client: LibpodClient,
  containerId: string,
  readFrom: UnixNanos | undefined,
  count: number,
  signal: AbortSignal,
): Promise<CountedRecord[]> {
  const parser = new PodmanLogParser(readFrom === undefined);
  // A ring: `next` is where the next record goes, and the oldest once the ring is full.
  const ring: CountedRecord[] = [];
  let next = 0;
  const sink = (_record: unknown, position: RecordPosition, trusted: boolean) => {
    ring[next] = { position, trusted };
    next = (next + 1) % count;
  };
  const query = libpodLogsQuery({ follow: false, stdout: true, stderr: true }, readFrom);
  const response = await client.openLogs(containerId, query, signal);
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) parser.push(chunk, sink);
  } finally {
    response.destroy();
  }
  parser.end(sink);
  return ring.length < count ? ring : [...ring.slice(next), ...ring.slice(0, next)];
}
