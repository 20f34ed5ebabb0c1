// `service=NAME` on a real one-node Docker Swarm (a private dockerd, left before it stops): one
// merged stream of every task of a service — history in time order, each line named by its task
// and node as `docker service logs` names it, new tasks joining when the service is scaled, a
// task whose process exits leaving with its exit code and its replacement joining, and a
// reconnect with the merged cursor that repeats nothing and loses nothing.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '@enginegate/gateway';
import mockPlugin from '@enginegate/plugin-mock';
import mobyPlugin from '@enginegate/plugin-moby';
import { LogsClient, type LogSocket, type MergedJsonRecord } from '@enginegate/test-client';
import type { PrivateDockerd } from '@enginegate/test-harness/dockerd';
import {
  createService,
  scaleService,
  serviceLogsByTask,
  swarmForTest,
  waitForRunningTasks,
} from '@enginegate/test-harness/swarm';

const TOKEN = 'swarm-stream-token-0123456789';
const JSON_PROTOCOL = ['v1.json.enginegate'];
/** Each task: `<its hostname> n` every 0.2 s (a task container's hostname is its container ID). */
const TICKER = 'i=0; while true; do i=$((i+1)); echo "$(hostname) $i"; sleep 0.2; done';

t.setTimeout(300_000);

const records = (socket: LogSocket) => socket.jsonMessages() as MergedJsonRecord[];
const lineRecords = (socket: LogSocket) => records(socket).filter((r) => r.type === 'line');

/** Every line of a task, by task name, in arrival order. */
function byTask(lines: MergedJsonRecord[]): Map<string, string[]> {
  const tasks = new Map<string, string[]>();
  for (const r of lines) tasks.set(r.name!, [...(tasks.get(r.name!) ?? []), r.line!]);
  return tasks;
}

const dockerd = await swarmForTest(t);
if (dockerd) await suite(dockerd);

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'enginegate-swarm-stream-'));
  t.teardown(() => rm(stateDir, { recursive: true, force: true }));
  const gateway = await createGateway({
    port: 0,
    token: TOKEN,
    stateDir,
    plugins: [mobyPlugin],
    builtinPlugins: [mockPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket: dockerd.socket } },
    logger: false,
  });
  const client = new LogsClient(await gateway.listen(), TOKEN);
  t.teardown(() => gateway.close());
  const hostname = ((await dockerd.docker.info()) as { Name: string }).Name;

  await createService(dockerd, 'web', TICKER, { replicas: 2 });
  const tasks = await waitForRunningTasks(dockerd, 'web', 2);
  const names = tasks.map((task) => `web.${task.slot}.${task.id.slice(0, 12)}@${hostname}`).sort();

  await t.test('history: both tasks in time order, named task@node, each in its own order', async (t) => {
    const open = client.mergedSocket({ service: 'web', follow: true }, JSON_PROTOCOL);
    await open.opened;
    await open.waitFor(() => lineRecords(open).length >= 20, '20 lines', 30_000);
    open.socket.close();
    const history = client.mergedSocket({ service: 'web', follow: false }, JSON_PROTOCOL);
    await history.opened;
    t.equal((await history.waitClosed(30_000)).code, 1000, 'follow=false ends');
    const lines = lineRecords(history);
    t.same([...new Set(lines.map((r) => r.name))].sort(), names, 'every task, named as docker service logs names it');
    const times = lines.map((r) => r.time!);
    t.same(times, [...times].sort(), 'in time order');
    for (const [name, own] of byTask(lines)) {
      const numbers = own.map((line) => Number(line.split(' ')[1]));
      t.same(
        numbers,
        numbers.map((_, i) => i + 1),
        `${name}: 1, 2, 3, … with nothing lost`,
      );
    }
    // docker service logs (with details: each line's task) has the same lines of each task, in the same order.
    const theirs = await serviceLogsByTask(dockerd, 'web');
    for (const [name, own] of byTask(lines)) {
      const task = [...theirs.keys()].find((id) => name.includes(`.${id.slice(0, 12)}@`));
      t.ok(task, `docker service logs has ${name}`);
      t.same(own, (theirs.get(task!) ?? []).slice(0, own.length), `${name}: the lines docker service logs shows`);
    }
  });

  await t.test('scaled to 4 mid-stream: two tasks join within a few seconds', async (t) => {
    const stream = client.mergedSocket({ service: 'web', follow: true, tail: 1 }, JSON_PROTOCOL);
    t.teardown(() => stream.socket.terminate());
    await stream.opened;
    await stream.waitFor(() => lineRecords(stream).length >= 4, 'live lines of the first two tasks', 30_000);
    const scaledAt = performance.now();
    await scaleService(dockerd, 'web', 4);
    const joined = () => records(stream).filter((r) => r.type === 'join' && !names.includes(r.name!));
    await stream.waitFor(() => joined().length === 2, 'two joins', 30_000);
    const seconds = (performance.now() - scaledAt) / 1000;
    t.ok(seconds < 15, `both joined ${seconds.toFixed(1)} s after the scale`);
    const newNames = joined().map((r) => r.name!);
    t.ok(
      newNames.every((name) => /^web\.[34]\.\w{12}@/.test(name)),
      `slots 3 and 4 (${newNames.join(', ')})`,
    );
    await stream.waitFor(
      () => newNames.every((name) => lineRecords(stream).some((r) => r.name === name)),
      'lines of the new tasks',
      30_000,
    );
    t.pass(`${newNames.length} new tasks' lines arrive on the same stream`);
  });

  await t.test('a task whose process exits: leave with its exit code, then its replacement joins', async (t) => {
    await createService(dockerd, 'crash', 'echo "start $(hostname)"; sleep 2; echo bye; exit 3', { replicas: 1 });
    await waitForRunningTasks(dockerd, 'crash', 1);
    const stream = client.mergedSocket({ service: 'crash', follow: true }, JSON_PROTOCOL);
    t.teardown(() => stream.socket.terminate());
    await stream.opened;
    await stream.waitFor(() => records(stream).some((r) => r.type === 'leave'), 'a leave', 30_000);
    const leave = records(stream).find((r) => r.type === 'leave')!;
    t.equal(leave.exitCode, 3, 'the leave carries the exit code');
    const before = lineRecords(stream).filter((r) => r.name === leave.name);
    t.match(before.at(-1)?.line, 'bye', "the task's last line came before its leave");
    await stream.waitFor(
      () => records(stream).some((r) => r.type === 'join' && r.name !== leave.name && /^crash\.1\./.test(r.name!)),
      'the replacement joining',
      30_000,
    );
    const order = records(stream).map((r) => r.type);
    t.ok(order.lastIndexOf('join') > order.indexOf('leave'), 'the replacement joins after the leave');
    await stream.waitFor(
      () => lineRecords(stream).some((r) => r.name !== leave.name && r.line!.startsWith('start ')),
      "the replacement's first line",
      30_000,
    );
  });

  await t.test('reconnect with the merged cursor: nothing repeated, nothing lost, for every task', async (t) => {
    const first = client.mergedSocket({ service: 'web', follow: true }, JSON_PROTOCOL);
    await first.opened;
    await first.waitFor(() => lineRecords(first).length >= 60, '60 lines', 30_000);
    first.socket.close();
    await first.closed;
    const firstLines = lineRecords(first);
    const cursor = firstLines.at(-1)!.cursor!;
    t.match(cursor, /^m\d+/, 'a merged cursor');

    const second = client.mergedSocket({ service: 'web', follow: true, after: cursor }, JSON_PROTOCOL);
    t.teardown(() => second.socket.terminate());
    await second.opened;
    await second.waitFor(() => lineRecords(second).length >= 60, '60 more lines', 30_000);
    second.socket.close();
    await second.closed;

    const full = client.mergedSocket({ service: 'web', follow: false }, JSON_PROTOCOL);
    await full.opened;
    await full.waitClosed(30_000);
    const history = byTask(lineRecords(full));
    const got = byTask([...firstLines, ...lineRecords(second)]);
    for (const [name, lines] of got) {
      const all = history.get(name) ?? [];
      t.same(lines, all.slice(0, lines.length), `${name}: ${lines.length} lines, each once, none skipped`);
    }
    t.ok(got.size >= 2, `${got.size} tasks compared`);
  });

  await t.test('an engine use round trip (moby → mock → moby): 1012, then after= resumes exactly', async (t) => {
    const first = client.mergedSocket({ service: 'web', follow: true, tail: 5 }, JSON_PROTOCOL);
    await first.opened;
    await first.waitFor(() => lineRecords(first).length >= 30, '30 lines', 30_000);
    t.equal((await client.request('PUT', '/engine', { name: 'mock' })).status, 200);
    t.equal((await first.waitClosed(10_000)).code, 1012, 'the switch closes the stream with 1012');
    t.equal((await client.request('PUT', '/engine', { name: 'moby' })).status, 200);
    const firstLines = lineRecords(first);
    const second = client.mergedSocket(
      { service: 'web', follow: true, after: firstLines.at(-1)!.cursor! },
      JSON_PROTOCOL,
    );
    t.teardown(() => second.socket.terminate());
    await second.opened;
    await second.waitFor(() => lineRecords(second).length >= 40, '40 more lines', 30_000);
    second.socket.close();
    const full = client.mergedSocket({ service: 'web', follow: false }, JSON_PROTOCOL);
    await full.opened;
    await full.waitClosed(30_000);
    const history = byTask(lineRecords(full));
    for (const [name, lines] of byTask([...firstLines, ...lineRecords(second)])) {
      const all = history.get(name) ?? [];
      const start = all.indexOf(lines[0]!);
      t.same(
        lines,
        all.slice(start, start + lines.length),
        `${name}: ${lines.length} lines across the switch, each once`,
      );
    }
  });
}
