import {
  formatTimestamp,
  type ContainerAction,
  type ContainerEvent,
  type ContainerInfo,
  type UnixNanos,
} from '@enginegate/plugin-api';
import type { FramedBatch } from '../logs/log-framing.js';
import type { BatchFramer } from '../logs/log-stream.js';

/**
 * One record of `GET /passthrough/engine/events`: a `present` record per container that exists
 * when the stream opens, one `synced`, then the engine's events as they come.
 */
export type EventsRecord =
  | {
      type: 'container';
      action: 'present' | ContainerAction;
      container: ContainerInfo;
      time?: UnixNanos;
      exitCode?: number;
    }
  | { type: 'synced' };

export function presentRecord(container: ContainerInfo): EventsRecord {
  return { type: 'container', action: 'present', container };
}

export function eventRecord(event: ContainerEvent): EventsRecord {
  const record: EventsRecord = {
    type: 'container',
    action: event.action,
    container: event.container,
    time: event.time,
  };
  if (event.exitCode !== undefined) record.exitCode = event.exitCode;
  return record;
}

/** The JSON spelling (WebSocket text messages, NDJSON lines); `time` as RFC 3339 with nanoseconds. */
export function eventsRecordJson(record: EventsRecord): string {
  if (record.type === 'synced') return '{"type":"synced"}';
  const { action, container, time, exitCode } = record;
  return JSON.stringify({
    type: 'container',
    action,
    container,
    ...(time !== undefined ? { time: formatTimestamp(time) } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
  });
}

export const eventsFramer: BatchFramer<EventsRecord> = {
  frame(records: readonly EventsRecord[]): FramedBatch {
    const messages = records.map(eventsRecordJson);
    const lengths = messages.map((message) => Buffer.byteLength(message));
    return { messages, bytes: lengths.reduce((sum, length) => sum + length, 0), lengths };
  },
};
