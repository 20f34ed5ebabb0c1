import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { InvalidArgumentError, type LogOptions, type LogRecord, type PluginLogger } from '@enginegate/plugin-api';
import { ProcessLogsEngine } from 'enginegate-plugin-process-logs';
import { parseConfig } from '../src/plugin-config.js';

// What the conformance suite cannot see: the memory budget, processes that cannot start,
// signals, and that stopping the engine stops what its processes started.
const quiet: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };
const options = (overrides: Partial<LogOptions> = {}): LogOptions => ({
  follow: true,
  stdout: true,
  stderr: true,
  ...overrides,
});

async function startedEngine(t: Test, config: Record<string, unknown> = {}): Promise<ProcessLogsEngine> {
  const engine = new ProcessLogsEngine(parseConfig({ commands: [], stopGraceMs: 500, ...config }, {}), quiet);
  await engine.start();
  t.teardown(() => engine.stop());
  return engine;
}

async function readAll(source: AsyncIterable<LogRecord[]>): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  for await (const batch of source) records.push(...batch);
  return records;
}

/** True once `pid` has exited (gone, or a zombie its new parent has not reaped yet), within `ms`. */
async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    let state: string | undefined;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    } catch {
      return true;
    }
    if (state === 'Z') return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function eventuallyTrue(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

const node = (script: string) => ({ command: process.execPath, args: ['-e', script] });
const texts = (records: LogRecord[]) => records.flatMap((r) => (r.type === 'line' ? [r.line.toString()] : []));

t.test('the log keeps maxLogBytes; a reader that fell behind gets a gap record, then the kept lines', async (t) => {
  const engine = await startedEngine(t, { maxLogBytes: 4096 });
  // A follower opened before any output, and not pulled until all 200 lines are in.
  engine.run({ name: 'burst', ...node('for (let i = 0; i < 200; i++) console.log(`line ${i} ` + "x".repeat(50))') });
  const behind = await engine.logs.open({ ref: 'burst' }, options(), new AbortController().signal);
  await readAll(await engine.logs.open({ ref: 'burst' }, options(), new AbortController().signal)); // waits for the exit
  const records = await readAll(behind);
  t.equal(records[0]?.type, 'gap', 'the first record says lines were lost');
  t.match(records[0], { reason: /lines were dropped from the in-memory log/ });
  const lines = texts(records);
  t.ok(lines.length > 0 && lines.length < 200, `only the newest lines are kept (${lines.length})`);
  t.match(lines.at(-1), /^line 199 /, 'up to the last one');
  t.same(records.at(-1), { type: 'exit', exitCode: 0 }, 'then the exit');
  const fresh = texts(
    await readAll(await engine.logs.open({ ref: 'burst' }, options({ follow: false }), new AbortController().signal)),
  );
  t.same(fresh, lines, 'a new reader starts at the oldest kept line, without a gap');
});

t.test('a command that cannot start: its reason on stderr, exit code 127', async (t) => {
  const engine = await startedEngine(t);
  engine.run({ name: 'missing', command: '/nonexistent/enginegate-test-binary' });
  const records = await readAll(await engine.logs.open({ ref: 'missing' }, options(), new AbortController().signal));
  t.match(records[0], { type: 'line', stream: 'stderr' });
  t.match(texts(records)[0], /cannot start "\/nonexistent\/enginegate-test-binary": .*ENOENT/);
  t.same(records.at(-1), { type: 'exit', exitCode: 127 });
});

t.test('a process killed by a signal exits 128 + its number, as Docker reports', async (t) => {
  const engine = await startedEngine(t);
  engine.run({ name: 'terminated', command: 'sh', args: ['-c', 'echo bye; kill -TERM $$'] });
  const records = await readAll(await engine.logs.open({ ref: 'terminated' }, options(), new AbortController().signal));
  t.same(texts(records), ['bye']);
  t.same(records.at(-1), { type: 'exit', exitCode: 143 });
});

t.test('an unterminated last line is delivered, marked partial', async (t) => {
  const engine = await startedEngine(t);
  engine.run({ name: 'no-newline', ...node('process.stdout.write("whole\\nhalf")') });
  const records = await readAll(await engine.logs.open({ ref: 'no-newline' }, options(), new AbortController().signal));
  t.same(texts(records), ['whole', 'half']);
  t.match(records[1], { type: 'line', partial: true });
});

t.test('stop() stops each process and what it started (its process group)', async (t) => {
  const engine = await startedEngine(t);
  engine.run({ name: 'parent', command: 'sh', args: ['-c', 'sleep 60 & echo $!; wait'] });
  const source = await engine.logs.open({ ref: 'parent' }, options(), new AbortController().signal);
  const first = await source[Symbol.asyncIterator]().next();
  const grandchild = Number(texts(first.value as LogRecord[])[0]);
  t.ok(grandchild > 0, `the shell started sleep as PID ${grandchild}`);
  await engine.stop();
  t.ok(await gone(grandchild, 2000), 'the grandchild is gone too');
  await t.rejects(engine.containers(), { code: 'ENGINE_UNAVAILABLE' }, 'a stopped engine is unavailable');
});

t.test('stop() ends even when a process that left the group holds the pipes open', async (t) => {
  const engine = await startedEngine(t, { stopGraceMs: 300 });
  engine.run({ name: 'escapee', command: 'sh', args: ['-c', 'setsid sleep 60 & echo $!; wait'] });
  const source = await engine.logs.open({ ref: 'escapee' }, options(), new AbortController().signal);
  const first = await source[Symbol.asyncIterator]().next();
  const escaped = Number(texts(first.value as LogRecord[])[0]);
  t.teardown(() => {
    try {
      process.kill(escaped, 'SIGKILL'); // the one process this test let escape, by its PID
    } catch {
      // already gone
    }
  });
  // Wait until it has left the process group (setsid), so the group's signals miss it.
  t.ok(
    await eventuallyTrue(
      () => readFileSync(`/proc/${escaped}/stat`, 'utf8').split(') ')[1]?.split(' ')[2] === String(escaped),
      5000,
    ),
    'the escapee leads its own process group',
  );
  const started = Date.now();
  await engine.stop();
  t.ok(Date.now() - started >= 600, 'stop() waited out SIGTERM and SIGKILL (2 × 300 ms)');
  t.ok(
    Date.now() - started < 3000,
    `stop() returned after ${Date.now() - started} ms (SIGTERM, SIGKILL, then the pipes closed)`,
  );
});

t.test('configuration mistakes are named', async (t) => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ commands: 'sh' }, /commands must be an array/],
    [{ commands: [{ name: '../x', command: 'sh' }] }, /commands\[0\]\.name: container reference/],
    [{ commands: [{ name: 'a', command: '' }] }, /commands\[0\]\.command must be a program/],
    [
      {
        commands: [
          { name: 'a', command: 'sh' },
          { name: 'a', command: 'sh' },
        ],
      },
      /commands\[1\]: the name a is used twice/,
    ],
    [{ commands: [{ name: 'a', command: 'sh', args: [1] }] }, /args must be an array of strings/],
    [{ maxLogBytes: -1 }, /maxLogBytes must be a number > 0/],
    [{ commandsFile: '/nonexistent/commands.json' }, /cannot read the commands from \/nonexistent\/commands\.json/],
  ];
  for (const [config, message] of bad) {
    t.throws(() => parseConfig(config, {}), new InvalidArgumentError('x', 'x').constructor, JSON.stringify(config));
    t.throws(() => parseConfig(config, {}), { message }, `${JSON.stringify(config)}: ${message}`);
  }
  t.same(parseConfig({}, {}).commands, [], 'no commands: an engine that starts empty');
});
