// A merged stream's live part on a scripted engine: a matching container that starts joins
// (its join before its lines), one that exits leaves with its code, a restart rejoins, and a
// container= list ends once every listed container left.
import t from 'tap';
import {
  encodeTimeCursor,
  type ContainerEvent,
  type ContainerInfo,
  type LogOptions,
  type LogRecord,
} from '@enginegate/plugin-api';
import { MergedLogSource } from '../src/merged/merged-log-source.js';
import type { StreamRecord } from '../src/merged/merged-record.js';

/** An async iterable fed by hand. */
class Feed<T> implements AsyncIterable<T> {
  private readonly items: Array<T | 'end'> = [];
  private wake: (() => void) | undefined;
  push(item: T | 'end'): void {
    this.items.push(item);
    this.wake?.();
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item === 'end') return;
      if (item !== undefined) yield item;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

function info(id: string, labels: Record<string, string> = { app: 'x' }): ContainerInfo {
  return { id, names: [id], image: 'i', state: 'running', tty: false, createdAt: '', labels };
}

let clock = 1000n;
function line(text: string): LogRecord {
  clock += 1n;
  return { type: 'line', stream: 'stdout', time: clock, line: Buffer.from(text), cursor: encodeTimeCursor(clock, 0) };
}

/** An engine whose containers' live logs are feeds; histories are empty. */
function scriptedEngine() {
  const live = new Map<string, Feed<LogRecord[]>>();
  const opened: Array<{ ref: string; options: LogOptions }> = [];
  const feed = (id: string) => {
    let f = live.get(id);
    if (f === undefined) live.set(id, (f = new Feed()));
    return f;
  };
  const engine = {
    logs: {
      open: async (ref: { ref: string }, options: LogOptions) => {
        opened.push({ ref: ref.ref, options });
        return options.follow ? feed(ref.ref) : (async function* () {})();
      },
    },
  };
  return { engine, feed, opened, replaceFeed: (id: string) => live.set(id, new Feed()) };
}

function describe(records: StreamRecord[]): string[] {
  return records.map((r) => {
    if (r.type === 'line' && 'member' in r) return `${r.member.name}: ${r.line.toString()}`;
    if (r.type === 'join') return `join ${r.member.name} #${r.member.index}`;
    if (r.type === 'leave') return `leave ${r.member.name}${r.exitCode === undefined ? '' : ` ${r.exitCode}`}`;
    if (r.type === 'exit' && 'member' in r) return `exit ${r.member.name} ${r.exitCode}`;
    return r.type;
  });
}

async function take(iterator: AsyncIterator<StreamRecord[]>, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(...describe(next.value));
  }
  return out;
}

const options: LogOptions = { follow: true, stdout: true, stderr: true };

t.test('a container that starts and matches joins; exiting, it leaves with its code; a restart rejoins', async (t) => {
  const { engine, feed, opened, replaceFeed } = scriptedEngine();
  const events = new Feed<ContainerEvent[]>();
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const source = await MergedLogSource.open({
    engine,
    members: [info('a')],
    leftOut: [],
    options,
    endsWhenAllLeft: false,
    events,
    matches: (c) => c.labels.app === 'x',
    signal: controller.signal,
  });
  const it = source[Symbol.asyncIterator]();
  t.same(await take(it, 1), ['join a #0']);
  feed('a').push([line('a1')]);
  t.same(await take(it, 1), ['a: a1']);

  feed('b').push([line('b1'), line('b2')]);
  events.push([{ action: 'start', container: info('other', {}), time: clock }]);
  events.push([{ action: 'start', container: info('b'), time: clock }]);
  t.same(await take(it, 3), ['join b #1', 'b: b1', 'b: b2'], 'join first, then its lines; a non-match is ignored');
  t.notOk(
    opened.some((o) => o.ref === 'other'),
    'a container the selector does not match is not opened',
  );

  feed('b').push([{ type: 'exit', exitCode: 2 }]);
  feed('b').push('end');
  t.same(await take(it, 2), ['exit b 2', 'leave b 2']);

  replaceFeed('b');
  feed('b').push([line('b3')]);
  events.push([{ action: 'start', container: info('b'), time: clock }]);
  t.same(await take(it, 2), ['join b #1', 'b: b3'], 'a restart rejoins with the same index');
  const rejoin = opened.filter((o) => o.ref === 'b' && o.options.follow).at(-1);
  t.ok(rejoin?.options.after, 'and resumes right after its last line sent');
  await it.return?.(undefined);
});

t.test('a container= list ends once every listed container left', async (t) => {
  const { engine, feed } = scriptedEngine();
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const source = await MergedLogSource.open({
    engine,
    members: [info('a'), info('b')],
    leftOut: [],
    options,
    endsWhenAllLeft: true,
    matches: (c) => c.id === 'a' || c.id === 'b',
    signal: controller.signal,
  });
  feed('a').push([line('a1'), { type: 'exit', exitCode: 0 }]);
  feed('a').push('end');
  feed('b').push([{ type: 'exit', exitCode: 137 }]);
  feed('b').push('end');
  const all: string[] = [];
  for await (const batch of source) all.push(...describe(batch));
  t.same(all.slice(0, 2), ['join a #0', 'join b #1']);
  t.same(all.filter((r) => r.startsWith('leave')).sort(), ['leave a 0', 'leave b 137']);
  t.equal(all.at(-1)?.startsWith('leave'), true, 'the stream ends after the last leave');
});

t.test('the cap: a container joining beyond 256 members is a gap, said once', async (t) => {
  const { engine } = scriptedEngine();
  const events = new Feed<ContainerEvent[]>();
  const controller = new AbortController();
  t.teardown(() => controller.abort());
  const members = Array.from({ length: 256 }, (_, i) => info(`m${i}`));
  const source = await MergedLogSource.open({
    engine,
    members,
    leftOut: [],
    options,
    endsWhenAllLeft: false,
    events,
    matches: () => true,
    signal: controller.signal,
  });
  const it = source[Symbol.asyncIterator]();
  t.equal((await take(it, 256)).length, 256, 'the joins');
  events.push([{ action: 'start', container: info('one-too-many'), time: clock }]);
  events.push([{ action: 'start', container: info('one-too-many'), time: clock }]);
  const next = await it.next();
  t.same(
    next.value?.map((r: StreamRecord) => r.type),
    ['gap'],
  );
  t.match((next.value?.[0] as { reason: string }).reason, /one-too-many/);
  await it.return?.(undefined);
});
