// The built-in containers, container resolution, and the plugin's default export.
import t from 'tap';
import { createHash } from 'node:crypto';
import {
  AmbiguousContainerError,
  ContainerNotFoundError,
  InvalidArgumentError,
  PLUGIN_API_VERSION,
  parseRfc3339,
  type PluginServices,
} from '@enginegate/plugin-api';
import mockPlugin, { MOCK_CONTAINERS, MockEngine, mockBytesLines, mockBytesOutput } from '@enginegate/plugin-mock';
import { ManualClock, lineRecords, logOptions, numberedLine, readAll } from './fixtures/log-reading.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function setUp(options: { builtinContainers?: boolean } = {}) {
  const clock = new ManualClock();
  // Project 'demo' is events.test.ts's; here the four built-ins alone.
  const engine = new MockEngine({ clock: clock.read, demoProject: false, ...options });
  await engine.start();
  const read = async (ref: string, options = logOptions()) =>
    (await readAll(await engine.logs.open({ ref }, options, new AbortController().signal))).records;
  return { clock, engine, read };
}

t.test('the built-ins are listed with stable 64-hex IDs', async (t) => {
  const { engine, clock } = await setUp();
  const listed = await engine.containers();
  t.same(listed.map((c) => c.names[0]).sort(), Object.keys(MOCK_CONTAINERS).sort());
  for (const info of listed) {
    const name = info.names[0] as keyof typeof MOCK_CONTAINERS;
    t.equal(info.id, MOCK_CONTAINERS[name], `${name} id`);
    t.equal(info.id, sha256(Buffer.from(name)), `${name} id is sha256 of the name`);
    t.match(info.id, /^[0-9a-f]{64}$/);
    t.equal(info.state, 'running', `${name} is running at start`);
    t.equal(info.tty, name === 'mock-tty');
    t.equal(parseRfc3339(info.createdAt), clock.now, `${name} createdAt is RFC3339`);
    t.type(info.image, 'string');
  }
  clock.advanceMs(2000);
  const exit = (await engine.containers()).find((c) => c.id === MOCK_CONTAINERS['mock-exit'])!;
  t.equal(exit.state, 'exited', 'mock-exit has exited 2 s later');
});

t.test('mock-bytes writes exactly the exported bytes', async (t) => {
  const { read } = await setUp();
  const lines = lineRecords(await read('mock-bytes'));
  const written = Buffer.concat(lines.flatMap((r) => [r.line, Buffer.from('\n')]));
  t.equal(sha256(written), sha256(mockBytesOutput()));
  t.same(
    lines.map((r) => r.stream),
    mockBytesLines().map((l) => l.stream),
  );
  t.ok(
    lines.some((r) => r.line.length === 102_400),
    'a 100 KiB line',
  );
  t.ok(
    lines.some((r) => r.line.subarray(0, 2).equals(Buffer.from([0xff, 0xfe]))),
    '0xff 0xfe',
  );
  t.ok(
    lines.some((r) => r.line.at(-1) === 0xc3),
    'a lone UTF-8 lead byte',
  );
  t.ok(
    lines.some((r) => r.line.at(-1) === 0x0d),
    'a CRLF line keeps its \\r',
  );
  t.ok(
    lines.some((r) => r.line.includes('caf\xe9', 0, 'latin1') && !r.line.includes('café')),
    'latin-1 text',
  );
  const invalid = lines.filter((r) => !Buffer.from(r.line.toString('utf8'), 'utf8').equals(r.line));
  t.ok(invalid.length >= 3, `${invalid.length} lines are not valid UTF-8`);
  // mock-bytes keeps running: a follower gets the same lines, then waits.
  const { engine } = await setUp();
  const abort = new AbortController();
  const iterator = (await engine.logs.open({ ref: 'mock-bytes' }, logOptions({ follow: true }), abort.signal))[
    Symbol.asyncIterator
  ]();
  t.equal(lineRecords((await iterator.next()).value).length, lines.length);
  const waiting = iterator.next();
  abort.abort();
  t.same(await waiting, { done: true, value: undefined });
});

t.test('mock-chatty: 1,000 lines of history, numbered, alternating stdout and stderr', async (t) => {
  const { read, clock } = await setUp();
  const lines = lineRecords(await read('mock-chatty'));
  t.equal(lines.length, 1000);
  t.same(
    lines.slice(0, 2).map((r) => [r.stream, r.line.toString()]),
    [
      ['stdout', 'chatty line 1 stdout'],
      ['stderr', 'chatty line 2 stderr'],
    ],
  );
  t.ok(lines.every((r, i) => r.line.toString() === `chatty line ${i + 1} ${r.stream}`));
  t.equal(lines[1]!.time! - lines[0]!.time!, 100_000_000n, '100 ms apart');
  clock.advanceMs(1000);
  t.equal(lineRecords(await read('mock-chatty')).length, 1010, 'ten more a second later');
});

t.test('mock-tty: ANSI colours, CRLF endings, everything on stdout', async (t) => {
  const { read } = await setUp();
  const lines = lineRecords(await read('mock-tty'));
  t.ok(lines.length >= 10, `${lines.length} lines of history`);
  t.ok(lines.every((r) => r.stream === 'stdout'));
  t.ok(
    lines.every((r) => r.line.at(-1) === 0x0d),
    'every line ends in \\r',
  );
  t.ok(
    lines.every((r) => r.line.includes('\x1b[')),
    'every line has an ANSI escape',
  );
  t.same(await read('mock-tty', logOptions({ stdout: false })), [], 'a TTY has no stderr');
});

t.test('containers resolve by full ID, name or unique ID prefix', async (t) => {
  const { engine, read } = await setUp({ builtinContainers: false });
  const spec = { lineCount: 1, intervalMs: 0, lineAt: numberedLine };
  const a = engine.addContainer({ ...spec, name: 'alpha', id: 'abc1' + '0'.repeat(60) });
  engine.addContainer({ ...spec, name: 'beta', id: 'abc2' + '0'.repeat(60) });
  // A name that looks like an ID prefix: the name wins, as in Docker.
  engine.addContainer({ ...spec, name: 'abc', lineAt: () => ({ stream: 'stdout', bytes: Buffer.from('named abc') }) });
  t.equal(a.id, 'abc1' + '0'.repeat(60));
  for (const ref of [a.id, 'alpha', 'abc1', 'abc10']) {
    t.same(
      lineRecords(await read(ref)).map((r) => r.line.toString()),
      ['line 0'],
      ref,
    );
  }
  t.same(
    lineRecords(await read('abc')).map((r) => r.line.toString()),
    ['named abc'],
  );
  const signal = new AbortController().signal;
  const ambiguous = await engine.logs.open({ ref: 'ab' }, logOptions(), signal).catch((err: unknown) => err);
  t.type(ambiguous, AmbiguousContainerError);
  t.equal((ambiguous as AmbiguousContainerError).statusCode, 409);
  t.same((ambiguous as AmbiguousContainerError).candidates, ['abc1' + '0'.repeat(60), 'abc2' + '0'.repeat(60)]);
  await t.rejects(engine.logs.open({ ref: 'abc3' }, logOptions(), signal), ContainerNotFoundError);
  await t.rejects(engine.logs.open({ ref: 'gamma' }, logOptions(), signal), {
    code: 'CONTAINER_NOT_FOUND',
    statusCode: 404,
  });
  for (const bad of ['', '../etc', 'a/b', 'x'.repeat(256), '-flag']) {
    await t.rejects(
      engine.logs.open({ ref: bad }, logOptions(), signal),
      InvalidArgumentError,
      JSON.stringify(bad.slice(0, 20)),
    );
  }
  t.throws(() => engine.removeContainer('gamma'), ContainerNotFoundError);
  t.equal(engine.activeReaders, 0);
});

t.test('a container lists the labels of its spec (a copy), none by default', async (t) => {
  const { engine } = await setUp({ builtinContainers: false });
  const labels = { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 's' };
  engine.addContainer({ name: 'labelled', lineCount: 1, intervalMs: 0, lineAt: numberedLine, labels });
  engine.addContainer({ name: 'plain', lineCount: 1, intervalMs: 0, lineAt: numberedLine });
  labels['com.docker.compose.project'] = 'changed later';
  const byName = new Map((await engine.containers()).map((c) => [c.names[0], c]));
  t.same(byName.get('labelled')!.labels, { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 's' });
  t.same(byName.get('plain')!.labels, {});
  byName.get('labelled')!.labels.x = 'y';
  t.notOk('x' in (await engine.containers())[0]!.labels, 'a listed info is a copy');
});

t.test('addContainer refuses specs that cannot be simulated', async (t) => {
  const { engine } = await setUp({ builtinContainers: false });
  const spec = { name: 'ok', lineCount: 1, intervalMs: 0, lineAt: numberedLine };
  engine.addContainer(spec);
  t.throws(() => engine.addContainer(spec), InvalidArgumentError, 'a duplicate name');
  const { id } = (await engine.containers())[0]!;
  t.throws(() => engine.addContainer({ ...spec, name: 'same-id', id }), InvalidArgumentError, 'a duplicate id');
  t.throws(
    () => engine.addContainer({ ...spec, name: 'other', id: MOCK_CONTAINERS['mock-tty'].slice(0, 63) }),
    InvalidArgumentError,
    'a short id',
  );
  t.throws(() => engine.addContainer({ ...spec, name: 'bad/name' }), InvalidArgumentError);
  t.throws(
    () => engine.addContainer({ ...spec, name: 'forever', lineCount: Infinity }),
    InvalidArgumentError,
    'forever at once',
  );
  t.throws(() => engine.addContainer({ ...spec, name: 'neg', lineCount: -1 }), InvalidArgumentError);
  t.throws(() => engine.addContainer({ ...spec, name: 'nan', intervalMs: NaN }), InvalidArgumentError);
  t.throws(
    () => engine.addContainer({ ...spec, name: 'exits', lineCount: Infinity, intervalMs: 1, exitCode: 1 }),
    InvalidArgumentError,
  );
  t.equal((await engine.containers()).length, 1, 'none of them was added');
});

t.test('the default export is the mock plugin; register adds a MockEngine built from its scope', async (t) => {
  t.equal(mockPlugin.name, 'mock');
  t.equal(mockPlugin.apiVersion, PLUGIN_API_VERSION);
  const registered = new Map<string, { resolve(container: unknown): unknown }>();
  const container = {
    register: (name: string, resolver: { resolve(container: unknown): unknown }) => registered.set(name, resolver),
  };
  const services: PluginServices = {
    pluginName: 'mock',
    settings: { builtinContainers: false },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    clock: () => 1_000_000_000n,
    metrics: { counter: () => ({ inc() {} }), gauge: () => ({ set() {} }) },
    reportHealth() {},
  };
  t.equal(mockPlugin.register(container as never), undefined, 'the gateway resolves the engine');
  const engine = registered.get('engine')?.resolve({ cradle: services });
  t.type(engine, MockEngine);
  await (engine as MockEngine).start();
  t.same(await (engine as MockEngine).containers(), [], 'builtinContainers: false starts empty');
  (engine as MockEngine).addContainer({ name: 'at-one-second', lineCount: 1, intervalMs: 0, lineAt: numberedLine });
  const [listed] = await (engine as MockEngine).containers();
  t.equal(parseRfc3339(listed!.createdAt), 1_000_000_000n, "the scope's clock stamps it");
  await (engine as MockEngine).stop();
});
