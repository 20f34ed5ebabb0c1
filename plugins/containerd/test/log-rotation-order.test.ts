// Rotations that land between two steps of the follower, made deterministic: the test lists the
// rotated files for the follower and lets the "writer" rotate (or delete) just before or after
// that look. At ~120 rotations/s a real writer does this by chance: the file the follower had
// just opened as the current one was rotated before it listed the directory, and was then read
// after the files rotated later than it (test/fault/containerd-log-files.test.ts).
import t from 'tap';
import { mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { LogOptions } from '@enginegate/plugin-api';
import {
  LogFileStream,
  LogRoots,
  jsonFileFormat,
  listRotatedFiles,
  type TaskWatch,
} from '@enginegate/plugin-containerd';
import { ALL, FOLLOW, lines, readAll, recordingLogger, type ReadRecord } from './fixtures/engine-support.js';

const logger = recordingLogger();
const dir = await mkdtemp(join(tmpdir(), 'egc-rotation-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const BASE = Date.UTC(2026, 0, 1);
const json = (log: string) =>
  JSON.stringify({ log: `${log}\n`, stream: 'stdout', time: new Date().toISOString() }) + '\n';

/** What the writer does just before the follower's next look at the directory, and just after. */
interface Hook {
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}

/** A rotation as go-logrotate does it: rename to `.n`, stamped; a new file (complete at once). */
async function rotate(log: string, n: number, next: string): Promise<void> {
  await rename(log, `${log}.${n}`);
  const stamp = new Date(BASE + n * 1000);
  await utimes(`${log}.${n}`, stamp, stamp);
  await writeFile(`${log}.tmp`, json(next));
  await rename(`${log}.tmp`, log);
}

const running: TaskWatch = { begin: async () => 'running', end: () => {} };

function stream(log: string, options: LogOptions, hook: Hook, signal = new AbortController().signal) {
  return new LogFileStream({
    path: log,
    format: jsonFileFormat,
    rotation: 'numbered',
    options,
    task: options.follow ? running : undefined,
    roots: new LogRoots([dir], logger),
    logger,
    signal,
    pollIntervalMs: 20,
    listRotated: async (path, scheme) => {
      const { before, after } = hook;
      hook.before = undefined;
      hook.after = undefined;
      await before?.();
      const listed = await listRotatedFiles(path, scheme);
      await after?.();
      return listed;
    },
  });
}

/**
 * Follows `log` until its line `last` arrived. Once `f0` did, the writer rotates to a file
 * holding `f1`, and `hook` acts around the follower's next look at the directory.
 */
async function follow(log: string, hook: Hook, last: string): Promise<ReadRecord[]> {
  const armed: Hook = {};
  let rotated = false;
  const abort = new AbortController();
  return readAll(stream(log, FOLLOW, armed, abort.signal), {
    abort,
    stop: (r) => {
      if (!rotated && lines(r).includes('f0')) {
        rotated = true;
        Object.assign(armed, hook);
        void rotate(log, 1, 'f1');
      }
      return lines(r).includes(last);
    },
    timeoutMs: 5000,
  });
}

const kinds = (records: readonly ReadRecord[]) => records.map((r) => (r.type === 'line' ? r.text : r.type));

t.test('the current file rotated between its open and the look: its lines stay in order', async (t) => {
  const log = join(dir, 'order-json.log');
  await writeFile(log, json('f0'));
  // The follower opens the file holding f1 as the current one; before it lists the directory
  // the writer rotates it (to .2) and the next one (f2, to .3).
  const hook: Hook = {
    before: async () => {
      await rotate(log, 2, 'f2');
      await rotate(log, 3, 'f3');
    },
  };
  const records = await follow(log, hook, 'f3');
  t.same(kinds(records), ['f0', 'f1', 'f2', 'f3'], 'every line once, in the order written');
});

t.test('a rotated file deleted between the look and its open: a gap in its place', async (t) => {
  const log = join(dir, 'deleted-json.log');
  await writeFile(log, json('f0'));
  const hook: Hook = {
    before: async () => {
      await rotate(log, 2, 'f2');
      await rotate(log, 3, 'f3');
    },
    after: () => rm(`${log}.3`),
  };
  const records = await follow(log, hook, 'f3');
  t.same(kinds(records), ['f0', 'f1', 'gap', 'f3'], 'f2 is gone: a gap where it was, not silence');
  t.match(records[2], { type: 'gap', reason: /deleted-json\.log\.3 was deleted before it was read/ });
});

t.test('a rotated file compressed between the look and its open: read from its .gz', async (t) => {
  const log = join(dir, 'gzipped-json.log');
  await writeFile(log, json('f0'));
  const hook: Hook = {
    before: async () => {
      await rotate(log, 2, 'f2');
      await rotate(log, 3, 'f3');
    },
    after: async () => {
      await writeFile(`${log}.3.gz`, gzipSync(await readFile(`${log}.3`)));
      await rm(`${log}.3`);
    },
  };
  const records = await follow(log, hook, 'f3');
  t.same(kinds(records), ['f0', 'f1', 'f2', 'f3'], 'no line lost, no gap');
});

t.test('history: a rotated file deleted before it was opened is a gap where lines are delivered', async (t) => {
  const log = join(dir, 'history-json.log');
  /** Writes a (.1), b (.2) and c (the current file); reads with `options`, `.n` deleted after the look. */
  const read = async (options: LogOptions, n: number) => {
    await writeFile(log, json('a'));
    await rotate(log, 1, 'b');
    await rotate(log, 2, 'c');
    return kinds(await readAll(stream(log, options, { after: () => rm(`${log}.${n}`) })));
  };
  t.same(await read(ALL, 2), ['a', 'gap', 'c'], 'the lost file is a gap in its place');
  t.same(await read({ ...ALL, tail: 2 }, 2), ['a', 'gap', 'c'], 'also in a tail that reaches across it');
  t.same(await read({ ...ALL, tail: 1 }, 2), ['c'], 'a tail that starts after it: no gap');
  // The oldest gone: the history starts a file later, as it would have a moment later.
  t.same(await read(ALL, 1), ['b', 'c'], 'the oldest file gone: no hole in what is delivered');
});

t.test('read while the writer is between a rename and its new file: the rotated files are read', async (t) => {
  const log = join(dir, 'renamed-json.log');
  await writeFile(log, json('a'));
  await rotate(log, 1, 'b');
  await rename(log, `${log}.2`);
  t.same(kinds(await readAll(stream(log, ALL, {}))), ['a', 'b'], 'the history, though no current file exists');
  const abort = new AbortController();
  let created = false;
  const followed = await readAll(stream(log, FOLLOW, {}, abort.signal), {
    abort,
    stop: (r) => {
      if (!created && lines(r).includes('b')) {
        created = true;
        void writeFile(log, json('c'));
      }
      return lines(r).includes('c');
    },
    timeoutMs: 5000,
  });
  t.same(kinds(followed), ['a', 'b', 'c'], 'followed: the rotated files, then the new current file');
});
