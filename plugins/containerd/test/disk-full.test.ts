// A follower at the end of a log file whose file system is full (its writer losing lines) gets
// one gap saying so — not silence — and, once there is space again and the writer appends, the
// new lines; a disk that fills again is said again. The free space is what the test says it is.
import t from 'tap';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogRecord } from '@enginegate/plugin-api';
import {
  DISK_FULL_REASON,
  DiskFullWatch,
  LogFileStream,
  LogRoots,
  freeBytesOf,
  jsonFileFormat,
  type TaskExit,
  type TaskWatch,
} from '@enginegate/plugin-containerd';
import { FOLLOW, lines, readAll, recordingLogger, type ReadRecord } from './fixtures/engine-support.js';

const dir = await mkdtemp(join(tmpdir(), 'egc-full-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const logger = recordingLogger();
const json = (log: string) =>
  JSON.stringify({ log: `${log}\n`, stream: 'stdout', time: new Date().toISOString() }) + '\n';

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

t.test(
  'a full disk under a follower: one gap after what is on disk; space again: lines; full again: a gap',
  async (t) => {
    const log = join(dir, 'full-json.log');
    await writeFile(log, json('a') + json('b'));
    let free = 0;
    let onExit: ((exit: TaskExit) => void) | undefined;
    const task: TaskWatch = {
      async begin(listener) {
        onExit = listener;
        return 'running';
      },
      end() {},
    };
    const stream = new LogFileStream({
      path: log,
      format: jsonFileFormat,
      rotation: 'numbered',
      options: FOLLOW,
      task,
      roots: new LogRoots([dir], logger),
      logger,
      signal: new AbortController().signal,
      pollIntervalMs: 20,
      exitSettleMs: 50,
      freeBytes: async () => free,
    });
    const records: ReadRecord[] = [];
    const done = readAll(stream, { stop: (r) => (records.splice(0, records.length, ...r), false), timeoutMs: 20_000 });
    const gaps = () => records.filter((r) => r.type === 'gap').length;
    await until('a gap', () => gaps() === 1);
    t.same(lines(records), ['a', 'b'], 'the lines on disk came first');
    t.match(records.at(-1), { type: 'gap', reason: DISK_FULL_REASON }, 'then the gap');
    await sleep(1200); // two checks and more: the disk still full is not said again
    t.equal(gaps(), 1, 'said once while the disk stays full');

    free = 4096;
    await sleep(700);
    await appendFile(log, json('c'));
    await until('line c', () => lines(records).includes('c'));
    free = 0;
    await until('a second gap', () => gaps() === 2, 3000);
    onExit?.({ exitCode: 0 });
    const all = await done;
    t.same(
      all.map((r) => (r.type === 'line' ? r.text : r.type)),
      ['a', 'b', 'gap', 'c', 'gap', 'exit'],
      'lines, a gap, the line written with space, a gap when full again, the exit',
    );
  },
);

t.test('no gap while the disk has space, nor when its free space cannot be read', async (t) => {
  t.equal(await new DiskFullWatch(dir, async () => 1).check(), undefined, 'space left');
  t.equal(await new DiskFullWatch(dir, async () => undefined).check(), undefined, 'unknown');
  const watch = new DiskFullWatch(dir, async () => 0, 1000);
  t.match(await watch.check(), { type: 'gap' } satisfies Partial<LogRecord>, 'full');
  t.ok((await freeBytesOf(dir))! > 0, 'statfs reads the free space of a real file system');
  t.equal(await freeBytesOf(join(dir, 'no', 'such')), undefined, 'undefined for a path that is not there');
});
