// What the podman LogSource does when the service misbehaves in ways a real one will not do on
// cue: an in-band error frame, a connection cut mid-frame while the service lives, a followed
// stream that keeps ending while the container runs, a follow that never ends by itself.
import t, { type Test } from 'tap';
import { nowNanos, type LogOptions } from '@enginegate/plugin-api';
import { PodmanEngine } from '@enginegate/plugin-podman';
import { collect, lines, recordingLogger } from '@enginegate/test-harness/log-records';
import { entriesBody, fakeLibpod, frame, selectEntries, type FakeContainer } from './fixtures/fake-libpod.js';

const FOLLOW: LogOptions = { follow: true, stdout: true, stderr: true };
const S0 = 1_796_000_000n * 1_000_000_000n;

function ticker(id: string, count: number): FakeContainer {
  return {
    id: id.repeat(64).slice(0, 64),
    name: `c${id}`,
    running: true,
    exitCode: 0,
    entries: Array.from({ length: count }, (_, i) => ({
      stream: 'stdout' as const,
      timeNs: S0 + BigInt(i) * 300_000_000n,
      content: Buffer.from(`tick ${i}\n`),
    })),
  };
}

async function setup(t: Test, container: FakeContainer) {
  const fake = await fakeLibpod(t, [container]);
  const logger = recordingLogger();
  const engine = new PodmanEngine({ config: { podmanSocket: fake.socket }, logger, reportHealth: () => {} });
  await engine.start();
  t.teardown(() => engine.stop());
  const open = (options: LogOptions) =>
    engine.logs.open({ ref: container.name }, options, new AbortController().signal);
  return { fake, engine, logger, open };
}

t.test('an in-band error frame becomes an error record and ends the stream', async (t) => {
  const container = ticker('1', 3);
  const { fake, open, logger } = await setup(t, container);
  fake.onLogs = (_query, res) => {
    res.writeHead(200);
    res.end(Buffer.concat([entriesBody(container.entries.slice(0, 2)), frame(3, Buffer.from('storage is gone\n'))]));
    return true;
  };
  const { records, ended } = await collect(await open(FOLLOW));
  t.ok(ended);
  t.same(lines(records), ['tick 0', 'tick 1']);
  t.same(records.at(-1), { type: 'error', code: 'INTERNAL', message: 'Podman: storage is gone' });
  t.ok(
    logger.entries.some((e) => e.level === 'warn'),
    'logged at warn',
  );
});

t.test(
  'a connection cut mid-frame while the service lives: resumed behind the last entry, nothing twice',
  async (t) => {
    const container = ticker('2', 10);
    container.running = false;
    const { fake, open } = await setup(t, container);
    fake.onLogs = (query, res, attempt) => {
      const body = entriesBody(selectEntries(container.entries, query));
      res.writeHead(200);
      if (attempt === 1) {
        // Four whole entries and half of the fifth, then the connection drops.
        const cut = body.indexOf(Buffer.from('tick 4')) + 3;
        res.write(body.subarray(0, cut), () => res.socket?.destroy());
        return true;
      }
      res.end(body);
      return true;
    };
    const { records, ended, error } = await collect(await open(FOLLOW));
    t.error(error);
    t.ok(ended);
    t.same(
      lines(records),
      Array.from({ length: 10 }, (_, i) => `tick ${i}`),
      'every line once, in order',
    );
    t.same(records.at(-1), { type: 'exit', exitCode: 0 });
    t.equal(fake.logQueries[1]?.get('since'), '1795999999.999999999', 'the resume asks from the last entry’s second');
  },
);

t.test('a followed stream that keeps ending without a new entry: an error record, not a busy loop', async (t) => {
  const container = ticker('3', 2);
  const { fake, open } = await setup(t, container);
  fake.onLogs = (query, res) => {
    res.writeHead(200);
    res.end(entriesBody(selectEntries(container.entries, query)));
    return true;
  };
  const started = Date.now();
  const { records, ended } = await collect(await open(FOLLOW), { timeoutMs: 20_000 });
  t.ok(ended);
  t.same(lines(records), ['tick 0', 'tick 1'], 'the lines once, though every resume reads their second again');
  t.match(records.at(-1), { type: 'error', code: 'INTERNAL', message: /keeps ending/ });
  t.ok(fake.logQueries.length >= 6 && fake.logQueries.length <= 8, `${fake.logQueries.length} requests`);
  t.ok(Date.now() - started >= 1000, 'with a growing pause between them');
});

t.test('until ends a follow that Podman would keep open', async (t) => {
  const container = ticker('4', 0);
  const now = nowNanos();
  container.entries = [0, 1, 2].map((i) => ({
    stream: 'stdout' as const,
    timeNs: now - 2_000_000_000n + BigInt(i) * 10_000_000n,
    content: Buffer.from(`early ${i}\n`),
  }));
  const { fake, open } = await setup(t, container);
  fake.onLogs = (query, res) => {
    res.writeHead(200);
    res.write(entriesBody(selectEntries(container.entries, query)));
    if (query.get('follow') === 'false') res.end();
    return true; // follow: the body stays open, as Podman's does past until
  };
  const started = Date.now();
  const { records, ended } = await collect(await open({ ...FOLLOW, until: now }), { timeoutMs: 10_000 });
  t.ok(ended, 'the stream ended by itself');
  t.ok(Date.now() - started < 3000, `soon after until's second is over (${Date.now() - started} ms)`);
  t.same(lines(records), ['early 0', 'early 1', 'early 2']);
  t.equal(fake.logQueries.at(-1)?.get('follow'), 'false', 'what is left up to until is read without follow');
});
