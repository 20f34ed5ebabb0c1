// What moby and podman share about their daemon: DaemonEngine (client built at start, start and
// health following the daemon, stop ending streams, errors typed and outages told once),
// inspectContainerRef (an ambiguous prefix names its IDs) and dockerFormatActions.
import t from 'tap';
import {
  AmbiguousContainerError,
  ContainerNotFoundError,
  DaemonEngine,
  EngineUnavailableError,
  dockerFormatActions,
  hasErrorCode,
  inspectContainerRef,
  type DaemonEngineOptions,
  type EngineHealth,
  type LogOptions,
} from '@enginegate/plugin-api';

class FakeClient {
  readonly description = 'unix:///fake.sock';
  answering = true;
  closed = false;
  constructor(readonly timeoutMs: number) {}
  ping(): Promise<void> {
    return this.answering ? Promise.resolve() : Promise.reject(new Error('connect ENOENT'));
  }
  close(): void {
    this.closed = true;
  }
}

class FakeEngine extends DaemonEngine<FakeClient> {
  readonly clients: FakeClient[] = [];
  constructor(options: DaemonEngineOptions) {
    super(options, {
      engine: 'fake',
      daemon: 'the Fake daemon',
      logKey: 'fake',
      defaultRequestTimeoutMs: 10_000,
      connect: (timeoutMs) => {
        this.clients.push(new FakeClient(timeoutMs));
        return this.clients.at(-1)!;
      },
      toEngineError: (err, ref) =>
        (err as Error).message === 'gone' ? new EngineUnavailableError('gone') : new ContainerNotFoundError(ref),
    });
  }
  get connection() {
    return this.daemon;
  }
  owner(ref: string, after?: LogOptions['after']) {
    return this.logOwner(
      { ref },
      { follow: false, stdout: true, stderr: true, ...(after && { after }) },
      new AbortController().signal,
      (_, name) => (name === 'gone' ? Promise.reject(new Error('nope')) : Promise.resolve(`owner of ${name}`)),
    );
  }
}

function engine(config: Record<string, unknown> = {}) {
  const reports: EngineHealth[] = [];
  const logged: string[] = [];
  const logger = { debug() {}, info: (_: unknown, m?: string) => logged.push(m ?? ''), warn() {}, error() {} };
  const fake = new FakeEngine({ config, logger, reportHealth: (h) => reports.push(h) });
  return { fake, reports, logged };
}

t.test('start builds the client once with the timeout setting; a silent daemon is unavailable', async (t) => {
  const { fake, logged } = engine({ requestTimeoutMs: 250 });
  t.equal(fake.endpoint, 'not started');
  t.throws(() => fake.connection.client(), { message: 'the fake engine is not started' });
  t.same(await fake.health(), { ok: false, message: 'the fake engine is not started' });
  await fake.start();
  t.equal(fake.clients[0]!.timeoutMs, 250, 'config.requestTimeoutMs bounds the requests');
  t.same(logged, ['connected to the Fake daemon']);
  fake.clients[0]!.answering = false;
  await t.rejects(fake.start(), {
    code: 'ENGINE_UNAVAILABLE',
    message: 'the Fake daemon at unix:///fake.sock is not answering: connect ENOENT',
  });
  t.equal(fake.clients.length, 1, 'the same client is tried again');
  t.same(await fake.health(), {
    ok: false,
    message: 'the Fake daemon at unix:///fake.sock is not answering: connect ENOENT',
  });
  await t.rejects(engine({ requestTimeoutMs: 0 }).fake.start(), { code: 'INVALID_ARGUMENT' });
});

t.test('stop aborts every open stream and closes the client; errors are typed, outages told once', async (t) => {
  const { fake, reports } = engine();
  await fake.start();
  const client = fake.clients[0]!;
  const response = {
    destroyed: false,
    destroy() {
      this.destroyed = true;
    },
  };
  const stream = (ref: string, request: () => Promise<{ response?: typeof response }>) =>
    fake.connection.openStream(new AbortController().signal, ref, request, (opened) => opened.response);
  const opened = await stream('c1', () => Promise.resolve({ response }));
  t.equal(fake.openStreamCount, 1);
  await t.rejects(
    stream('c2', () => Promise.reject(new Error('nope'))),
    ContainerNotFoundError,
  );
  t.equal(fake.openStreamCount, 1, 'a failed request releases its stream');
  await stream('c3', () => Promise.resolve({}));
  t.equal(fake.openStreamCount, 1, 'so does one with nothing to stream');
  t.ok(hasErrorCode(fake.connection.engineError(new Error('gone'), 'c1'), 'ENGINE_UNAVAILABLE'));
  fake.connection.engineError(new Error('gone'), 'c1');
  t.same(reports, [{ ok: false, message: 'gone' }], 'the outage is reported once');
  await fake.stop();
  t.ok(opened.signal.aborted, 'stop() ended the stream');
  t.ok(response.destroyed, 'and destroyed its response');
  t.equal(fake.openStreamCount, 0);
  t.ok(client.closed);
  t.equal(fake.endpoint, 'not started');
});

t.test('logOwner: a valid reference, time cursors only, the owner resolved or its failure typed', async (t) => {
  const { fake } = engine();
  await t.rejects(fake.owner('x'), { code: 'ENGINE_UNAVAILABLE' }, 'not started');
  await fake.start();
  t.match(await fake.owner('web'), { name: 'web', owner: 'owner of web' });
  await t.rejects(fake.owner('bad/ref'), { code: 'INVALID_ARGUMENT' });
  await t.rejects(fake.owner('web', { kind: 'byte', offset: 3 }), {
    code: 'INVALID_ARGUMENT',
    message: /after= is not a cursor of the fake engine \(it takes time cursors\)/,
  });
  await t.rejects(fake.owner('gone'), ContainerNotFoundError);
});

t.test('inspectContainerRef: an ambiguous prefix names its IDs; other failures are typed', async (t) => {
  const ids = ['abc999' + '0'.repeat(58), 'abc123' + '0'.repeat(58), 'def000' + '0'.repeat(58)];
  const errors = {
    isAmbiguousPrefixError: (err: unknown) => (err as Error).message === 'ambiguous',
    toEngineError: (_: unknown, ref: string) => new ContainerNotFoundError(ref),
  };
  const client = (failure: string) => ({
    inspect: () => Promise.reject(new Error(failure)),
    listContainers: () => Promise.resolve(ids.map((Id) => ({ Id }))),
  });
  const ambiguous = await inspectContainerRef(client('ambiguous'), 'abc', undefined, errors).catch((e: unknown) => e);
  t.type(ambiguous, AmbiguousContainerError);
  t.match((ambiguous as Error).message, /abc1230{6}, abc9990{6}/, 'the 12-character IDs, sorted');
  await t.rejects(inspectContainerRef(client('missing'), 'x', undefined, errors), ContainerNotFoundError);
  t.same(
    await inspectContainerRef({ ...client(''), inspect: () => Promise.resolve({ Id: 'x' }) }, 'x', undefined, errors),
    {
      Id: 'x',
    },
  );
});

t.test('dockerFormatActions: the shared actions, with each engine its names for exit and removal', async (t) => {
  const libpod = dockerFormatActions({ exit: 'died', removal: 'remove' });
  t.same(Object.keys(libpod), ['create', 'start', 'died', 'stop', 'rename', 'pause', 'unpause', 'remove']);
  t.same(libpod['died'], { action: 'die', state: 'exited' });
  t.same(libpod['remove'], { action: 'destroy', state: 'removed' });
  t.same(dockerFormatActions({ exit: 'die', removal: 'destroy' })['pause'], { action: 'update', state: 'paused' });
});
