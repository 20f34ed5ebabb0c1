// GET /passthrough/engine/logs?container=…|label=…|project=…|all=true on the mock engine:
// selectors and their 400s, history in time order, per-container tail, the framings, the
// merged cursor's exact resume, a list's end once its containers exited, and 1012 on a switch.
import t from 'tap';
import { MOCK_CONTAINERS } from '@enginegate/plugin-mock';
import type { LogsClient, MergedQuery } from '@enginegate/test-client';
import { startGateway } from './fixtures/harness.js';

interface JsonRecord {
  type: string;
  container?: string;
  name?: string;
  index?: number;
  time?: string;
  line?: string;
  cursor?: string;
  exitCode?: number;
}

async function ndjson(client: LogsClient, query: MergedQuery): Promise<{ status: number; records: JsonRecord[] }> {
  const url = new URL(client.mergedLogsUrl(query));
  const answer = await client.get(`${url.pathname}${url.search}`, { accept: 'application/x-ndjson' });
  const records = answer.text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as JsonRecord);
  return { status: answer.status, records };
}

const lines = (records: JsonRecord[]) => records.filter((r) => r.type === 'line');

t.test('selector mistakes are 400s naming the parameter, an unknown container a 404', async (t) => {
  const { client } = await startGateway(t);
  const cases: Array<[MergedQuery, number, string]> = [
    [{}, 400, 'container'],
    [{ container: 'mock-chatty', label: 'a=b' }, 400, 'container'],
    [{ all: 'true', project: 'demo' }, 400, 'all'],
    [{ container: 'mock-chatty', after: 't1.0' }, 400, 'after'],
    [{ container: 'mock-chatty', after: 'mnotacursor' }, 400, 'after'],
    [{ container: ['mock-chatty', 'no-such'] }, 404, 'no such container'],
  ];
  for (const [query, status, word] of cases) {
    const url = new URL(client.mergedLogsUrl(query));
    const answer = await client.get(`${url.pathname}${url.search}`);
    t.equal(answer.status, status, JSON.stringify(query));
    t.match(JSON.stringify(answer.json), word);
  }
});

t.test('history: joins first, then every member’s lines in time order, tail per container', async (t) => {
  const { client } = await startGateway(t);
  const { status, records } = await ndjson(client, {
    container: ['mock-chatty', 'mock-tty', 'mock-bytes'],
    follow: false,
    tail: 5,
  });
  t.equal(status, 200);
  t.same(
    records.slice(0, 3).map((r) => [r.type, r.name, r.index]),
    [
      ['join', 'mock-chatty', 0],
      ['join', 'mock-tty', 1],
      ['join', 'mock-bytes', 2],
    ],
  );
  const got = lines(records);
  for (const name of ['mock-chatty', 'mock-tty', 'mock-bytes'])
    t.equal(got.filter((r) => r.name === name).length, 5, `tail=5 of ${name}`);
  const times = got.map((r) => r.time!);
  t.same(times, [...times].sort(), 'in time order');
  t.equal(got.find((r) => r.name === 'mock-chatty')?.container, MOCK_CONTAINERS['mock-chatty'], 'full ID');
});

t.test('the merged cursor resumes every member: nothing twice, nothing missing', async (t) => {
  const { client } = await startGateway(t);
  // A fixed until: the mock containers keep writing, and each request must ask for the same lines.
  const until = (Date.now() / 1000).toFixed(3);
  const query = { container: ['mock-chatty', 'mock-tty'], follow: false, until } as const;
  const whole = lines((await ndjson(client, query)).records);
  t.ok(whole.length > 1000, `${whole.length} lines in all`);
  for (const cut of [0, 1, 500, whole.length - 2]) {
    const resumed = lines((await ndjson(client, { ...query, after: whole[cut]!.cursor })).records);
    t.same(
      resumed.map((r) => `${r.name} ${r.line}`),
      whole.slice(cut + 1).map((r) => `${r.name} ${r.line}`),
      `after record ${cut}: exactly the rest`,
    );
  }
});

t.test('raw and text: padded name prefixes; prefix=false leaves them out; binary carries the index', async (t) => {
  const { client } = await startGateway(t);
  const raw = await client.get(
    new URL(client.mergedLogsUrl({ container: ['mock-exit', 'mock-chatty'], follow: false, tail: 1 })).pathname +
      new URL(client.mergedLogsUrl({ container: ['mock-exit', 'mock-chatty'], follow: false, tail: 1 })).search,
  );
  t.match(raw.text, /^mock-chatty \| chatty line \d+ \w+$/m);
  t.match(raw.text, /^mock-exit {3}\| exit line/m);
  const bare = new URL(
    client.mergedLogsUrl({ container: ['mock-exit', 'mock-chatty'], follow: false, tail: 1, prefix: false }),
  );
  t.notMatch((await client.get(bare.pathname + bare.search)).text, /\|/);

  const socket = client.mergedSocket({ container: ['mock-exit', 'mock-chatty'], follow: false, tail: 1 }, [
    'v1.binary.enginegate',
  ]);
  const close = await socket.waitClosed(10_000);
  t.equal(close.code, 1000);
  const lineMessages = socket.messages.filter((m) => m.data[0] !== 3);
  t.equal(lineMessages.length, 2);
  t.same(lineMessages.map((m) => m.data.readUInt32BE(1)).sort(), [0, 1], 'each line names its member by index');
});

t.test('a container= list ends (1000) once all listed exited, with leave and the exit code', async (t) => {
  const { client } = await startGateway(t);
  const socket = client.mergedSocket({ container: 'mock-exit', tail: 1 }, ['v1.json.enginegate']);
  const close = await socket.waitClosed(15_000);
  t.equal(close.code, 1000);
  const records = socket.jsonMessages() as JsonRecord[];
  const leave = records.find((r) => r.type === 'leave');
  t.same(leave && { name: leave.name, exitCode: leave.exitCode, index: leave.index }, {
    name: 'mock-exit',
    exitCode: 3,
    index: 0,
  });
  t.equal(records.at(-1)?.type, 'leave', 'the leave is the last record');
  t.match(lines(records).at(-1)?.line, /exit line 20 of 20/, 'after the last line');
});

t.test('an engine switch closes a merged stream 1012', async (t) => {
  const { client, gw } = await startGateway(t);
  const socket = client.mergedSocket({ all: 'true', tail: 0 }, ['v1.json.enginegate']);
  await socket.opened;
  await socket.waitFor((m) => m.length >= 4, 'the joins');
  await gw.engines.use(null);
  const close = await socket.waitClosed(10_000);
  t.equal(close.code, 1012);
});

t.test('project=demo: a container that starts later joins, one that exits leaves with its code', async (t) => {
  const { client } = await startGateway(t);
  const socket = client.mergedSocket({ project: 'demo', tail: 0 }, ['v1.json.enginegate']);
  await socket.opened;
  const records = () => socket.jsonMessages() as JsonRecord[];
  await socket.waitFor(
    () => records().some((r) => r.type === 'join' && r.name === 'demo-worker-1'),
    'demo-worker-1 to join',
    15_000,
  );
  const all = records();
  const initial = all.filter((r) => r.type === 'join').map((r) => r.name);
  t.same(initial.slice(0, 3), ['demo-db-1', 'demo-migrate-1', 'demo-web-1'], 'the project’s members, by name');
  t.same(
    all.filter((r) => r.type === 'leave').map((r) => [r.name, r.exitCode]),
    [['demo-migrate-1', 0]],
    'migrate left with its exit code',
  );
  const workerJoin = all.findIndex((r) => r.type === 'join' && r.name === 'demo-worker-1');
  t.equal(all[workerJoin]!.index, 3, 'the next index');
  await socket.waitFor(
    () => records().some((r) => r.type === 'line' && r.name === 'demo-worker-1'),
    'a line of demo-worker-1',
    10_000,
  );
  t.ok(
    records().findIndex((r) => r.type === 'line' && r.name === 'demo-worker-1') > workerJoin,
    'its lines come after its join',
  );
  socket.close();
});
