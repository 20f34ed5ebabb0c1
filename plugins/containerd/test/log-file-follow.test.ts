// Following a log file as writers treat it: appends, rotation by rename (the old file drained
// through its open descriptor first), truncation, the task's exit; `since` by bisection, `tail`
// from the end; and an abort that releases every descriptor, watcher and timer at once.
import t from 'tap';
import { appendFile, mkdtemp, open, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogOptions, LogRecord } from '@enginegate/plugin-api';
import {
  LogFileStream,
  LogRoots,
  criFormat,
  fileHasWriter,
  findTailPosition,
  findTimePosition,
  jsonFileFormat,
  openLogSegment,
  type LogSegment,
  rawFormat,
  type LogFileFormat,
  type RotationScheme,
  type TaskExit,
  type TaskWatch,
} from '@enginegate/plugin-containerd';
import {
  ALL,
  FOLLOW,
  lines,
  openFdCount,
  readAll,
  recordingLogger,
  type ReadRecord,
} from './fixtures/engine-support.js';

// A 17 MB log is written and read three times: on a loaded CI machine, more than tap's 30 s default.
t.setTimeout(120_000);

const logger = recordingLogger();
const dir = await mkdtemp(join(tmpdir(), 'egc-follow-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** A task the test ends by hand; `ended` is the exit of a task that had stopped before the stream. */
function handTask(ended?: TaskExit) {
  let onExit: ((exit: TaskExit) => void) | undefined;
  let watching = false;
  const watch: TaskWatch = {
    async begin(listener) {
      onExit = listener;
      watching = ended === undefined;
      return ended ?? 'running';
    },
    end() {
      watching = false;
    },
  };
  return {
    watch,
    exit: (code: number) => onExit?.({ exitCode: code }),
    get watching() {
      return watching;
    },
  };
}

function stream(
  path: string,
  format: LogFileFormat,
  rotation: RotationScheme,
  options: LogOptions,
  task?: TaskWatch,
  signal = new AbortController().signal,
) {
  return new LogFileStream({
    path,
    format,
    rotation,
    options,
    task,
    roots: new LogRoots([dir], logger),
    logger,
    signal,
    pollIntervalMs: 50,
    exitSettleMs: 100,
  });
}

const json = (log: string, stream = 'stdout', time = new Date().toISOString()) =>
  JSON.stringify({ log, stream, time }) + '\n';

/** Waits until `records` holds `n` lines. */
async function untilLines(records: ReadRecord[], n: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (records.filter((r) => r.type === 'line').length < n) {
    if (Date.now() > deadline) throw new Error(`only ${records.length} records`);
    await sleep(10);
  }
}

/** Reads in the background into a shared array. */
function background(iterable: AsyncIterable<LogRecord[]>) {
  const records: ReadRecord[] = [];
  const done = readAll(iterable, { stop: (r) => (records.splice(0, records.length, ...r), false), timeoutMs: 20_000 });
  return { records, done };
}

t.test('appends, two rotations (one renamed while written), truncation, then the exit', async (t) => {
  const log = join(dir, 'app-json.log');
  await writeFile(log, json('before\n'));
  const task = handTask();
  const { records, done } = background(stream(log, jsonFileFormat, 'numbered', FOLLOW, task.watch));
  await untilLines(records, 1);
  t.ok(task.watching, 'the task is watched while followed');

  await appendFile(log, json('a1\n'));
  await untilLines(records, 2);
  // Rotation as go-logrotate does it: rename, new file. The writer still appends one line to
  // the renamed file before switching: it must be read from the old descriptor.
  await rename(log, `${log}.1`);
  await appendFile(`${log}.1`, json('late in old\n'));
  await writeFile(log, json('b1\n'));
  await untilLines(records, 4);
  // Two rotations between two looks of the follower: the middle file is read too.
  await rename(log, `${log}.2`);
  await writeFile(log, json('c1\n'));
  await rename(log, `${log}.3`);
  await writeFile(log, json('d1\n'));
  await untilLines(records, 6);
  await truncate(log, 0);
  await sleep(150);
  await appendFile(log, json('after truncate\n'));
  await untilLines(records, 7);
  await appendFile(log, json('unfinished', 'stderr'));
  task.exit(9);
  await appendFile(log, json('written just after the exit\n'));
  const all = await done;
  t.same(lines(all), [
    'before',
    'a1',
    'late in old',
    'b1',
    'c1',
    'd1',
    'after truncate',
    'written just after the exit',
    'unfinished',
  ]);
  t.match(
    all.find((r) => r.type === 'gap'),
    { type: 'gap', reason: /truncated/ },
  );
  t.match(
    all.find((r) => r.text === 'unfinished'),
    { stream: 'stderr', partial: true },
    'an unfinished piece is flushed at the end',
  );
  t.match(all.at(-1), { type: 'exit', exitCode: 9 });
  t.notOk(task.watching, 'the task watch ended with the stream');
});

t.test('a raw file: an unterminated last line waits for its newline; byte cursors', async (t) => {
  const log = join(dir, 'raw.log');
  await writeFile(log, 'one\ntw');
  const task = handTask();
  const { records, done } = background(stream(log, rawFormat, 'none', FOLLOW, task.watch));
  await untilLines(records, 1);
  await sleep(120);
  t.same(lines(records), ['one'], 'no half line delivered');
  await appendFile(log, 'o\nthree');
  await untilLines(records, 2);
  task.exit(0);
  const all = await done;
  t.same(lines(all), ['one', 'two', 'three']);
  t.same(
    all.filter((r) => r.type === 'line').map((r) => (r as { cursor: string }).cursor.split('@')[0]),
    ['b4', 'b8', 'b13'],
  );
  t.match(all.at(-2), { text: 'three', partial: true });
});

t.test('fileHasWriter: a descriptor open for writing counts, one open for reading does not', async (t) => {
  const log = join(dir, 'writers.log');
  await writeFile(log, '');
  t.equal(await fileHasWriter(log), false, 'nobody holds it');
  const reader = await open(log, 'r');
  t.equal(await fileHasWriter(log), false, 'a reader is not a writer');
  const writer = await open(log, 'a');
  t.equal(await fileHasWriter(log), true, 'an appender is');
  await writer.close();
  t.equal(await fileHasWriter(log), false, 'closed again');
  await reader.close();
});

t.test('a file:// log: after the exit, the end waits for the shim to close the file', async (t) => {
  const log = join(dir, 'shim.log');
  await writeFile(log, 'first\n');
  const shim = await open(log, 'a');
  const task = handTask();
  const options = { path: log, format: rawFormat, rotation: 'none' as const, options: FOLLOW, task: task.watch };
  const following = new LogFileStream({
    ...options,
    roots: new LogRoots([dir], logger),
    logger,
    signal: new AbortController().signal,
    pollIntervalMs: 50,
    exitSettleMs: 100,
    writerClosesAtExit: true,
  });
  const { records, done } = background(following);
  await untilLines(records, 1);
  task.exit(2);
  // Well past the 100 ms of quiet: only the open descriptor keeps the stream waiting.
  await sleep(400);
  t.notOk(
    records.some((r) => r.type === 'exit'),
    'not ended while the shim holds the file',
  );
  await shim.appendFile('the last line, late\n');
  await shim.close();
  const all = await done;
  t.same(lines(all), ['first', 'the last line, late'], 'the late line is read');
  t.match(all.at(-1), { type: 'exit', exitCode: 2 });
});

t.test('a log file that appears only after the follow started', async (t) => {
  const log = join(dir, 'late.log');
  const task = handTask();
  const { records, done } = background(stream(log, criFormat, 'cri', FOLLOW, task.watch));
  await sleep(100);
  await writeFile(log, '2024-01-01T00:00:00Z stdout F hello\n');
  await untilLines(records, 1);
  task.exit(1);
  const all = await done;
  t.same(lines(all), ['hello']);
  t.match(all.at(-1), { type: 'exit', exitCode: 1 });
});

t.test('since bisects a large file; tail reads from the end', async (t) => {
  const log = join(dir, 'big.log');
  const base = Date.UTC(2024, 0, 1);
  const count = 200_000;
  const chunks: string[] = [];
  for (let i = 0; i < count; i++) {
    const ms = base + i * 10;
    chunks.push(
      `${new Date(ms).toISOString().replace('Z', '000000Z')} ${i % 3 ? 'stdout' : 'stderr'} F line number ${i} ${'x'.repeat(i % 50)}\n`,
    );
  }
  await writeFile(log, chunks.join(''));
  const target = 187_654;
  const since = BigInt(base + target * 10) * 1_000_000n;

  let started = Date.now();
  const fromSince = await readAll(stream(log, criFormat, 'cri', { ...ALL, since }));
  const sinceMs = Date.now() - started;
  t.equal(fromSince.length, count - target);
  t.match((fromSince[0] as ReadRecord).text, new RegExp(`^line number ${target} `));

  // What finding the start costs, counted in bytes read.
  const segment = await openLogSegment(log);
  let bytesRead = 0;
  const counting: LogSegment = {
    path: segment.path,
    fileId: segment.fileId,
    size: () => segment.size(),
    mtimeNs: () => segment.mtimeNs(),
    close: () => segment.close(),
    read: async (position, length) => {
      const chunk = await segment.read(position, length);
      bytesRead += chunk.length;
      return chunk;
    },
  };
  const position = await findTimePosition([counting], criFormat, since);
  const sinceBytes = bytesRead;
  bytesRead = 0;
  const tailPosition = await findTailPosition([counting], criFormat, 5, () => true);
  const tailBytes = bytesRead;
  await segment.close();
  const size = (await import('node:fs')).statSync(log).size;
  t.match(chunks[target], /line number/);
  t.equal(position.offset, chunks.slice(0, target).join('').length, 'since lands on the first line at or after it');
  t.ok(sinceBytes < 512 * 1024, `since read ${sinceBytes} of ${size} bytes`);
  t.ok(tailBytes <= 64 * 1024, `tail read ${tailBytes} bytes`);
  t.equal(tailPosition.emitFrom.offset, chunks.slice(0, count - 5).join('').length);

  started = Date.now();
  const tail = await readAll(stream(log, criFormat, 'cri', { ...ALL, tail: 5 }));
  const tailMs = Date.now() - started;
  t.same(
    lines(tail).map((l) => l.split(' ')[2]),
    ['199995', '199996', '199997', '199998', '199999'],
  );

  started = Date.now();
  const everything = await readAll(stream(log, criFormat, 'cri', ALL));
  const allMs = Date.now() - started;
  t.equal(everything.length, count);
  t.ok(sinceMs < allMs / 3, `since near the end (${sinceMs} ms) is far cheaper than reading it all (${allMs} ms)`);
  t.comment(
    `${(chunks.join('').length / 1e6).toFixed(1)} MB, ${count} lines: all in ${allMs} ms (${Math.round(count / (allMs / 1000))} lines/s), since in ${sinceMs} ms, tail in ${tailMs} ms`,
  );
});

t.test('abort releases descriptors, the watcher and timers at once, even mid-wait', async (t) => {
  const log = join(dir, 'quiet.log');
  await writeFile(log, '2024-01-01T00:00:00Z stdout F only line\n');
  const resources = () =>
    process
      .getActiveResourcesInfo()
      .filter((r) => r !== 'TTYWrap')
      .sort();
  const fdsBefore = await openFdCount();
  const resourcesBefore = resources();
  const controllers = Array.from({ length: 20 }, () => new AbortController());
  const tasks = controllers.map(() => handTask());
  const iterators = controllers.map((c, i) =>
    stream(log, criFormat, 'cri', FOLLOW, tasks[i]!.watch, c.signal)[Symbol.asyncIterator](),
  );
  for (const it of iterators) t.match((await it.next()).value?.[0], { type: 'line' });
  const pending = iterators.map((it) => it.next()); // each now waits for the file to change
  await sleep(100);
  t.ok((await openFdCount()) >= fdsBefore + 20, 'each follower holds its file open');
  for (const c of controllers) c.abort();
  const results = await Promise.all(pending);
  t.ok(
    results.every((r) => r.done),
    'every follower ended',
  );
  await sleep(50);
  t.equal(await openFdCount(), fdsBefore, 'no descriptor left');
  t.same(resources(), resourcesBefore, 'no timer, watcher or file handle left');
  t.ok(
    tasks.every((task) => !task.watching),
    'no task watch left',
  );
});

t.test('a physical line over 1 MiB in a timestamped log is a gap, not an entry, and not silence', async (t) => {
  const log = join(dir, 'runaway.log');
  await writeFile(
    log,
    `2024-01-01T00:00:00Z stdout F before\n${'z'.repeat(2_500_000)}\n2024-01-01T00:00:01Z stdout F after\n`,
  );
  const records = await readAll(stream(log, criFormat, 'cri', ALL));
  t.same(
    records.map((r) => (r.type === 'line' ? r.text : r.type)),
    ['before', 'gap', 'after'],
  );
});

t.test('following a task that had already stopped: its history, then its exit code, and the stream ends', async (t) => {
  const log = join(dir, 'stopped-json.log');
  await writeFile(log, json('one\n') + json('two\n', 'stderr'));
  const task = handTask({ exitCode: 4 });
  const records = await readAll(stream(log, jsonFileFormat, 'numbered', FOLLOW, task.watch));
  t.same(
    records.map((r) => (r.type === 'line' ? r.text : r.type === 'exit' ? r.exitCode : r.type)),
    ['one', 'two', 4],
    'both lines, then the exit',
  );
  t.notOk(task.watching, 'nothing is watched');

  // No log file at all (it never wrote): the exit alone.
  const none = await readAll(
    stream(join(dir, 'never-written.log'), jsonFileFormat, 'numbered', FOLLOW, handTask({ exitCode: 6 }).watch),
  );
  t.same(
    none.map((r) => (r.type === 'exit' ? r.exitCode : r.type)),
    [6],
    'a task that never wrote: its exit',
  );

  // A task that is gone (its exit code unknown): the history, and no invented exit.
  const gone = await readAll(stream(log, jsonFileFormat, 'numbered', FOLLOW, handTask({ exitCode: null }).watch));
  t.same(
    gone.map((r) => r.type),
    ['line', 'line'],
    'a vanished task: the lines only',
  );
});
