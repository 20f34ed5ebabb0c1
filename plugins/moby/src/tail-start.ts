import type { LogOptions, TimeCursor, UnixNanos } from '@enginegate/plugin-api';
import type { DockerClient, DockerLogsQuery } from './docker-client.js';
import { parserFor } from './docker-log-parsers.js';
import { STREAM_SKEW_NS } from './docker-logs-query.js';
import { toDockerTimeParam } from './docker-timestamp.js';

export interface TailedContainer {
  id: string;
  tty: boolean;
  logDriver: string;
  /** A remote swarm task: its logs are `/tasks/{taskId}/logs`. */
  taskId?: string;
}

/**
 * Where `tail=N` starts, counted in whole lines: `start` is the cursor of the record right
 * before the first of the last N (the stream skips through it), or undefined when the log
 * holds N lines or fewer (then it starts at the beginning). `lastTime` is the time of the
 * newest record seen: a `follow=false` read ends there, so that lines written while the tail
 * is being found do not make it longer than N.
 *
 * Docker's own `tail` counts log entries, and each 16 KiB piece of a long line is one: it can
 * start inside a line and give fewer lines than asked. So Docker is asked for the last N+1
 * entries (more, while long lines eat them) until more than N records come back; the records
 * after the first are whole lines. The record before the last N is then numbered as a full
 * read numbers it: reading just its instant (`since` = its time) tells how many records share
 * that time before it. Tail counts both streams, as Docker's does.
 */
export async function findTailStart(
  client: DockerClient,
  container: TailedContainer,
  tail: number,
  signal: AbortSignal,
): Promise<{ start: TimeCursor | undefined; lastTime: UnixNanos | undefined }> {
  const base: DockerLogsQuery = { follow: false, stdout: true, stderr: true, timestamps: true };
  for (let entries = tail + 1; ; entries *= 4) {
    const last = await readRecordTimes(client, container, { ...base, tail: String(entries) }, signal);
    const lastTime = last.times.reduce<UnixNanos | undefined>(
      (max, t) => (max === undefined || t > max ? t : max),
      undefined,
    );
    if (last.times.length <= tail) {
      if (last.entries < entries) return { start: undefined, lastTime }; // the whole log: N lines or fewer
      continue;
    }
    const before = last.times.length - tail - 1;
    const time = last.times[before]!;
    let sameTimeFromBefore = 0;
    for (let i = before; i < last.times.length; i++) if (last.times[i] === time) sameTimeFromBefore++;
    // Docker stops at the first entry past `until`; the other stream's may come early (see STREAM_SKEW_NS).
    const instant = await readRecordTimes(
      client,
      container,
      { ...base, since: toDockerTimeParam(time), until: toDockerTimeParam(time + STREAM_SKEW_NS) },
      signal,
    );
    const sameTime = instant.times.filter((t) => t === time).length;
    return { start: { kind: 'time', time, seq: sameTime - sameTimeFromBefore }, lastTime };
  }
}

/** Reads a whole (non-follow) selection and keeps only each record's time. */
async function readRecordTimes(
  client: DockerClient,
  container: TailedContainer,
  query: DockerLogsQuery,
  signal: AbortSignal,
): Promise<{ times: UnixNanos[]; entries: number }> {
  const parser = parserFor(container);
  const times: UnixNanos[] = [];
  const sink = (_stream: unknown, time: UnixNanos) => {
    times.push(time);
  };
  const response =
    container.taskId === undefined
      ? await client.openLogs(container.id, query, signal)
      : await client.openLogs(container.taskId, query, signal, 'tasks');
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) parser.push(chunk, sink);
  } finally {
    response.destroy();
  }
  // An HTTP/1.0 body ends when the connection does: a cut shows only as a frame left unfinished.
  if (parser.midFrame) {
    throw Object.assign(new Error('the Docker log body ended inside a frame'), { code: 'ECONNRESET' });
  }
  parser.end(sink);
  return { times, entries: parser.entries };
}

/**
 * Where a stream starts and what it then selects: `after` wins over `tail`; a tail is turned
 * into the cursor it starts behind (whole lines, findTailStart) and taken out of the selection.
 */
export async function selectionStart(
  client: DockerClient,
  container: TailedContainer,
  options: LogOptions,
  signal: AbortSignal,
): Promise<{ start: TimeCursor | undefined; selection: LogOptions }> {
  if (options.after?.kind === 'time') return { start: options.after, selection: options };
  if (options.tail === undefined || options.tail <= 0) return { start: undefined, selection: options };
  const tailed = await findTailStart(client, container, options.tail, signal);
  const selection = { ...options, tail: undefined };
  // `docker logs --tail N` gives N lines, not N plus those written while they were found.
  if (
    !options.follow &&
    tailed.lastTime !== undefined &&
    (options.until === undefined || tailed.lastTime < options.until)
  ) {
    selection.until = tailed.lastTime;
  }
  return { start: tailed.start, selection };
}
