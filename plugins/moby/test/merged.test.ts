// Merged streams (GET /passthrough/engine/logs?project=…) through the gateway on a private
// dockerd: containers of one compose project (labels as `docker run --label` sets them) writing
// interleaved timed lines. History in time order, a container started later joins within 1 s,
// one that exits leaves with its code, and a reconnect with the last merged cursor repeats and
// loses nothing — compared against `docker logs` of each container.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createGateway, type Gateway } from '@enginegate/gateway';
import mobyPlugin from '@enginegate/plugin-moby';
import { dockerdForTest, runBusybox, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { countingScript } from '@enginegate/test-harness/lines-script';
import { LogsClient, type LogSocket, type MergedJsonRecord, type MergedQuery } from '@enginegate/test-client';

const TOKEN = 't';
const PROJECT = 'egm-merged';
const JSON_PROTOCOL = 'v1.json.enginegate';
/** A container started mid-stream must join within this long after its start returned. */
const JOIN_BOUND_MS = 1000;
t.setTimeout(180_000);

const run = promisify(execFile);
/** `docker logs ID` against the private daemon: its stdout lines. */
async function dockerLogs(dockerd: PrivateDockerd, id: string): Promise<string[]> {
  const { stdout } = await run('docker', ['-H', dockerd.host, 'logs', id], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => l.length > 0);
}

const records = (socket: LogSocket) => socket.jsonMessages() as MergedJsonRecord[];
const linesOf = (all: MergedJsonRecord[], name: string) =>
  all.filter((r) => r.type === 'line' && r.name === name).map((r) => r.line!);

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const gw: Gateway = await createGateway({
    port: 0,
    token: TOKEN,
    plugins: [mobyPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket: dockerd.socket } },
    logger: false,
  });
  const client = new LogsClient(await gw.listen(), TOKEN);
  t.teardown(() => gw.close());

  const labels = (service: string) => ({
    'com.docker.compose.project': PROJECT,
    'com.docker.compose.service': service,
  });
  const start = (service: string, script: string) =>
    runBusybox(dockerd, script, { name: `${PROJECT}-${service}-1`, labels: labels(service) });
  const ids = new Map<string, string>();
  // a and b keep running after their lines; c exits 5 once written.
  for (const [service, script] of [
    ['a', countingScript('a', 60, 0.05, 'sleep 600')],
    ['b', countingScript('b', 60, 0.05, 'sleep 600')],
    ['c', countingScript('c', 30, 0.05, 'exit 5')],
  ] as const)
    ids.set(service, await start(service, script));
  t.teardown(async () => {
    for (const id of ids.values()) await dockerd.docker.getContainer(id).remove({ force: true });
  });
  const name = (service: string) => `${PROJECT}-${service}-1`;
  const query: MergedQuery = { project: PROJECT };

  const socket = client.mergedSocket(query, [JSON_PROTOCOL]);
  await socket.opened;
  await socket.waitFor(
    () => ['a', 'b', 'c'].every((s) => linesOf(records(socket), name(s)).length >= 10),
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
      const own = linesOf(history, name(service));
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
    // Timed from before create + start: an upper bound on the delay from the start.
    const started = performance.now();
    const id = await start('d', countingScript('d', 40, 0.05, 'sleep 600'));
    ids.set('d', id);
    await socket.waitFor(
      () => records(socket).some((r) => r.type === 'join' && r.container === id),
      'd to join',
      5_000,
    );
    const took = performance.now() - started;
    t.ok(took < JOIN_BOUND_MS, `joined in ${Math.round(took)} ms`);
    const join = records(socket).find((r) => r.type === 'join' && r.container === id)!;
    t.match(join, { name: name('d'), index: 3 });
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
    t.equal(all[lastLineAt]!.line, 'c 30');
  });

  t.test('a reconnect with the last merged cursor: nothing twice, nothing missing', async (t) => {
    // Cut while a, b and d are still writing.
    await socket.waitFor(() => linesOf(records(socket), name('d')).length >= 5, 'five lines of d');
    socket.close();
    await socket.waitClosed();
    const first = records(socket);
    const cursor = first.filter((r) => r.type === 'line').at(-1)!.cursor!;
    t.match(cursor, /^m\d+/, 'a merged cursor');

    const again = client.mergedSocket({ ...query, after: cursor }, [JSON_PROTOCOL]);
    t.teardown(() => again.close());
    await again.opened;
    const expected = { a: 60, b: 60, c: 30, d: 40 } as const;
    const total = (service: keyof typeof expected) =>
      linesOf(first, name(service)).length + linesOf(records(again), name(service)).length;
    await again.waitFor(
      () => (['a', 'b', 'd'] as const).every((s) => total(s) >= expected[s]),
      'every member’s last line',
      20_000,
    );
    for (const service of ['a', 'b', 'c', 'd'] as const) {
      const seen = [...linesOf(first, name(service)), ...linesOf(records(again), name(service))];
      const docker = await dockerLogs(dockerd, ids.get(service)!);
      t.equal(docker.length, expected[service], `docker logs has all ${expected[service]} lines of ${service}`);
      t.same(seen, docker, `${service}: the two streams together are exactly docker logs`);
    }
  });
}

const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);
