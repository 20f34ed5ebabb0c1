// Merged streams (GET /passthrough/engine/logs?project=…) through the gateway on a private
// containerd, whose joins now come from the engine's own events: nerdctl-style containers of one
// compose project (its labels, a json-file log) writing interleaved timed lines. History in time
// order, a container started later joins within 1 s, one that exits leaves with its code, and a
// reconnect with the last merged cursor repeats and loses nothing — compared against each
// container's own logs (GET /passthrough/engine/logs/{id}).
import t from 'tap';
import { containerdForTest, runNerdctlStyleTask, type PrivateContainerd } from '@enginegate/test-harness/containerd';
import { countingScript } from '@enginegate/test-harness/lines-script';
import type { LogSocket, LogsClient, MergedJsonRecord, MergedQuery } from '@enginegate/test-client';
import { startGateway } from './fixtures/gateway.js';

const PROJECT = 'egc-merged';
const JSON_PROTOCOL = 'v1.json.enginegate';
/** A container started mid-stream must join within this long after its start returned. */
const JOIN_BOUND_MS = 1000;
/** How many lines each member writes. */
const EXPECTED = { a: 60, b: 60, c: 30, d: 40 } as const;
type Service = keyof typeof EXPECTED;
t.setTimeout(180_000);

const records = (socket: LogSocket) => socket.jsonMessages() as MergedJsonRecord[];
const name = (service: string) => `${PROJECT}-${service}-1`;
const linesOf = (all: MergedJsonRecord[], service: string) =>
  all.filter((r) => r.type === 'line' && r.name === name(service)).map((r) => r.line!);

/** One container's own history, through the single-container route. */
async function ownLogs(client: LogsClient, id: string): Promise<string[]> {
  const answer = await client.get(`/passthrough/engine/logs/${id}?follow=false`);
  if (answer.status !== 200) throw new Error(`logs of ${id}: HTTP ${answer.status}`);
  return answer.text.split('\n').filter((l) => l.length > 0);
}

async function suite(cd: PrivateContainerd): Promise<void> {
  const { gw, client } = await startGateway(cd);
  t.teardown(() => gw.close());
  const start = (service: Service, script: string) =>
    runNerdctlStyleTask(cd, name(service), script, {
      'com.docker.compose.project': PROJECT,
      'com.docker.compose.service': service,
    });
  const ids = new Map<Service, string>();
  // a and b keep running after their lines; c exits 5 once written.
  ids.set('a', await start('a', countingScript('a', EXPECTED.a, 0.05, 'sleep 600')));
  ids.set('b', await start('b', countingScript('b', EXPECTED.b, 0.05, 'sleep 600')));
  ids.set('c', await start('c', countingScript('c', EXPECTED.c, 0.05, 'exit 5')));
  const query: MergedQuery = { project: PROJECT };

  const socket = client.mergedSocket(query, [JSON_PROTOCOL]);
  await socket.opened;
  await socket.waitFor(
    () => (['a', 'b', 'c'] as const).every((s) => linesOf(records(socket), s).length >= 10),
    'ten lines of each member',
    20_000,
  );

  t.test('history is merged in time order, each member in its own order', async (t) => {
    const answer = await client.mergedHistory(query);
    t.equal(answer.status, 200);
    const history = answer.records.filter((r) => r.type === 'line');
    const times = history.map((r) => r.time!);
    t.same(times, [...times].sort(), 'in time order');
    for (const service of ['a', 'b', 'c']) {
      const own = linesOf(history, service);
      t.ok(own.length >= 10, `${own.length} lines of ${service}`);
      t.same(
        own,
        own.map((_, i) => `${service} ${i + 1}`),
        `${service}'s lines in its own order, from its first`,
      );
    }
    const names = history.map((r) => r.name);
    const switches = names.filter((n, i) => i > 0 && n !== names[i - 1]).length;
    t.ok(switches > 10, `members interleaved (${switches} switches)`);
  });

  t.test('a fourth container started mid-stream joins within 1 s', async (t) => {
    // Timed from before `ctr run` (create + start): an upper bound on the delay from the start.
    const started = performance.now();
    const id = await start('d', countingScript('d', EXPECTED.d, 0.05, 'sleep 600'));
    const returned = performance.now();
    ids.set('d', id);
    await socket.waitFor(
      () => records(socket).some((r) => r.type === 'join' && r.container === id),
      'd to join',
      5_000,
    );
    const joinAt = socket.messages.find((m) => m.data.toString().includes('"join"') && m.data.includes(id))!.at;
    const took = joinAt - started;
    t.ok(took < JOIN_BOUND_MS, `joined ${Math.round(took)} ms after ctr run began`);
    t.comment(
      `join: ${Math.round(took)} ms after ctr run began, ${Math.round(joinAt - returned)} ms after it returned`,
    );
    t.match(
      records(socket).find((r) => r.type === 'join' && r.container === id),
      { name: name('d'), index: 3 },
    );
  });

  t.test('a container that exits leaves with its exit code, after its last line', async (t) => {
    await socket.waitFor(
      () => records(socket).some((r) => r.type === 'leave' && r.name === name('c')),
      'c to leave',
      15_000,
    );
    const all = records(socket);
    const leaveAt = all.findIndex((r) => r.type === 'leave' && r.name === name('c'));
    t.match(all[leaveAt], { container: ids.get('c'), index: 2, exitCode: 5 });
    const lastLineAt = all.map((r) => r.type === 'line' && r.name === name('c')).lastIndexOf(true);
    t.ok(lastLineAt < leaveAt, 'the leave comes after its lines');
    t.equal(all[lastLineAt]!.line, `c ${EXPECTED.c}`);
  });

  t.test('a reconnect with the last merged cursor: nothing twice, nothing missing', async (t) => {
    // Cut while a, b and d are still writing.
    await socket.waitFor(() => linesOf(records(socket), 'd').length >= 5, 'five lines of d');
    socket.close();
    await socket.waitClosed();
    const first = records(socket);
    const cursor = first.filter((r) => r.type === 'line').at(-1)!.cursor!;
    t.match(cursor, /^m\d+/, 'a merged cursor');

    const again = client.mergedSocket({ ...query, after: cursor }, [JSON_PROTOCOL]);
    t.teardown(() => again.close());
    await again.opened;
    const total = (service: Service) => linesOf(first, service).length + linesOf(records(again), service).length;
    await again.waitFor(
      () => (['a', 'b', 'd'] as const).every((s) => total(s) >= EXPECTED[s]),
      'every member’s last line',
      20_000,
    );
    for (const service of ['a', 'b', 'c', 'd'] as const) {
      const seen = [...linesOf(first, service), ...linesOf(records(again), service)];
      const own = await ownLogs(client, ids.get(service)!);
      t.equal(own.length, EXPECTED[service], `its own logs have all ${EXPECTED[service]} lines of ${service}`);
      t.same(seen, own, `${service}: the two merged streams together are exactly its own logs`);
    }
  });
}

const cd = await containerdForTest(t);
if (cd) await suite(cd);
