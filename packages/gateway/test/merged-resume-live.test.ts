// Live lines of different members arrive in the order their streams deliver them, not in time
// order: a member's first line can come after another member's later-stamped line. A cursor
// taken in between must still resume that member from where its live stream began, not from
// the cursor's (later) time, or its first line is lost.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  encodeTimeCursor,
  nowNanos,
  type ContainerInfo,
  type LogOptions,
  type LogRecord,
} from '@enginegate/plugin-api';
import { decodeMergedCursor } from '../src/merged/merged-cursor.js';
import { MergedLogSource } from '../src/merged/merged-log-source.js';
import type { StreamRecord } from '../src/merged/merged-record.js';

/** An async iterable fed by hand. */
class Feed<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) yield item;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

function info(id: string): ContainerInfo {
  return { id, names: [id], image: 'i', state: 'running', tty: false, createdAt: '', labels: {} };
}

/** Containers whose lines are kept: history reads honour since/after, live reads are feeds. */
function recordingEngine() {
  const written = new Map<string, LogRecord[]>();
  const feeds = new Map<string, Feed<LogRecord[]>>();
  const write = (id: string, text: string, time: bigint) => {
    const record: LogRecord = {
      type: 'line',
      stream: 'stdout',
      time,
      line: Buffer.from(text),
      cursor: encodeTimeCursor(time, 0),
    };
    written.set(id, [...(written.get(id) ?? []), record]);
    for (const [key, feed] of feeds) if (key.startsWith(`${id}/`)) feed.push([record]);
  };
  let opens = 0;
  const engine = {
    logs: {
      open: async (ref: { ref: string }, options: LogOptions) => {
        const after = options.after?.kind === 'time' ? options.after.time : undefined;
        const lines = (written.get(ref.ref) ?? []).filter(
          (r) =>
            r.type === 'line' &&
            (options.since === undefined || r.time! >= options.since) &&
            (after === undefined || r.time! > after),
        );
        if (options.follow) {
          const feed = new Feed<LogRecord[]>();
          if (lines.length > 0) feed.push(lines);
          feeds.set(`${ref.ref}/${opens++}`, feed);
          return feed;
        }
        return (async function* () {
          if (lines.length > 0) yield lines;
        })();
      },
    },
  };
  return { engine, write };
}

/** The next line record, or undefined when none comes within a second. */
async function nextLine(
  iterator: AsyncIterator<StreamRecord[]>,
): Promise<(StreamRecord & { type: 'line' }) | undefined> {
  const none = sleep(1000, undefined);
  const line = (async () => {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return undefined;
      const found = next.value.find((r) => r.type === 'line');
      if (found?.type === 'line') return found;
    }
  })();
  return Promise.race([line, none]);
}

const options: LogOptions = { follow: true, stdout: true, stderr: true };

t.test('a member whose first live line arrives behind a later line of another is resumed whole', async (t) => {
  const { engine, write } = recordingEngine();
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const open = (resume?: string) =>
    MergedLogSource.open({
      engine,
      members: [info('a'), info('b')],
      leftOut: [],
      options,
      endsWhenAllLeft: false,
      matches: () => false,
      signal: controller.signal,
      ...(resume !== undefined && { resume: decodeMergedCursor(resume) }),
    });
  const first = (await open())[Symbol.asyncIterator]();
  await first.next(); // the joins
  const start = nowNanos() + 1_000_000n;
  write('a', 'a 1', start + 2n);
  const aLine = (await nextLine(first))!;
  // b's line is stamped before a's, but its stream delivers it after: the client has a's cursor.
  write('b', 'b 1', start + 1n);
  t.equal((await nextLine(first))?.line.toString(), 'b 1');

  const resumed = (await open(aLine.cursor))[Symbol.asyncIterator]();
  await resumed.next();
  const again = await nextLine(resumed);
  t.equal(again?.line.toString(), 'b 1', 'b’s line, which came after the cursor, comes again');
  t.equal(again !== undefined && 'member' in again && again.member.name, 'b');
});
