// The real-dockerd merged test (plugins/moby/test/merged.test.ts) on the mock's compose project
// `demo`: history in time order, demo-worker-1 (started later) joins within 1 s of its start,
// demo-migrate-1 leaves with its exit code, and a reconnect with the last merged cursor repeats
// and loses no line of any member — compared with each container's own single-container logs.
import t from 'tap';
import { DEMO_MIGRATE_EXIT_CODE } from '@enginegate/plugin-mock';
import { parseRfc3339 } from '@enginegate/plugin-api';
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

const JSON_PROTOCOL = 'v1.json.enginegate';
const JOIN_BOUND_MS = 1000;
const query: MergedQuery = { project: 'demo' };

const parseNdjson = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as JsonRecord);
const lineRecords = (records: JsonRecord[]) => records.filter((r) => r.type === 'line');

/** One container's own lines up to `until`, through the single-container route. */
async function ownLines(client: LogsClient, id: string, until: string): Promise<string[]> {
  const answer = await client.readHttp(id, { follow: false, until }, { accept: 'application/x-ndjson' });
  return lineRecords(parseNdjson(answer.body.toString())).map((r) => r.line!);
}

t.test('project=demo on mock: time order, a later join, a leave, an exact resume', async (t) => {
  const { client } = await startGateway(t);
  const socket = client.mergedSocket(query, [JSON_PROTOCOL]);
  t.teardown(() => socket.close());
  await socket.opened;
  const records = () => socket.jsonMessages() as JsonRecord[];

  const history = await client.get(
    (({ pathname, search }) => pathname + search)(new URL(client.mergedLogsUrl({ ...query, follow: false }))),
    { accept: 'application/x-ndjson' },
  );
  const historyLines = lineRecords(parseNdjson(history.text));
  const times = historyLines.map((r) => r.time!);
  t.same(times, [...times].sort(), `history of ${times.length} lines in time order`);
  t.same(
    [...new Set(historyLines.map((r) => r.name))].sort(),
    ['demo-db-1', 'demo-migrate-1', 'demo-web-1'],
    'every running member has history',
  );

  await socket.waitFor(() => records().some((r) => r.type === 'join' && r.name === 'demo-worker-1'), 'worker', 10_000);
  const joinedAt = Date.now();
  await socket.waitFor(() => records().some((r) => r.type === 'line' && r.name === 'demo-worker-1'), 'its line');
  // demo-worker-1's first line is stamped at its start (historyLines: 1).
  const firstWorkerLine = records().find((r) => r.type === 'line' && r.name === 'demo-worker-1')!;
  const startedAt = Number(parseRfc3339(firstWorkerLine.time!)! / 1_000_000n);
  t.ok(joinedAt - startedAt < JOIN_BOUND_MS, `worker joined ${joinedAt - startedAt} ms after its start`);

  const leave = records().find((r) => r.type === 'leave');
  t.match(leave, { name: 'demo-migrate-1', exitCode: DEMO_MIGRATE_EXIT_CODE });
  const migrateLines = lineRecords(records()).filter((r) => r.name === 'demo-migrate-1');
  t.equal(migrateLines.at(-1)?.line, 'migrate: done', 'its last line came before the leave');

  await socket.waitFor(
    () => lineRecords(records()).filter((r) => r.name === 'demo-worker-1').length >= 2,
    'a second worker line',
  );
  socket.close();
  await socket.waitClosed();
  const first = lineRecords(records());
  const again = client.mergedSocket({ ...query, after: first.at(-1)!.cursor! }, [JSON_PROTOCOL]);
  t.teardown(() => again.close());
  await again.opened;
  const fresh = () => lineRecords(again.jsonMessages() as JsonRecord[]);
  // Until every running member wrote again after the cut (db, the slowest, every 1.5 s).
  await again.waitFor(
    () => ['demo-web-1', 'demo-db-1', 'demo-worker-1'].every((name) => fresh().some((r) => r.name === name)),
    'every running member after the cut',
  );
  const seen = [...first, ...fresh()];
  // Live lines of different members may arrive out of time order, but each member's own lines
  // never do: up to the earliest of the running members' last times, all of them are in.
  const lastTime = (name: string) => seen.filter((r) => r.name === name).at(-1)!.time!;
  const until = ['demo-web-1', 'demo-db-1', 'demo-worker-1'].map(lastTime).sort()[0]!;
  for (const name of ['demo-web-1', 'demo-db-1', 'demo-migrate-1', 'demo-worker-1']) {
    const mine = seen.filter((r) => r.name === name);
    t.equal(new Set(mine.map((r) => r.line)).size, mine.length, `${name}: no line twice`);
    const upTo = mine.filter((r) => r.time! <= until);
    t.same(
      upTo.map((r) => r.line),
      await ownLines(client, mine[0]!.container!, until),
      `${name}: all ${upTo.length} lines up to ${until}, none missing`,
    );
  }
});
