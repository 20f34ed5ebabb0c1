// `service=NAME` on a real TWO-node Docker Swarm: a private dockerd as manager (the gateway's
// engine) and a second one in its own network namespace as worker. The worker's tasks are not
// containers of the manager's daemon: the moby plugin reads them through `/tasks/{id}/logs`.
// One merged stream in time order with both nodes' names, the lines the worker itself has,
// a scale-up joining on both nodes, remote exits told, and a reconnect with the merged cursor
// that repeats nothing and loses nothing.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway } from '@enginegate/gateway';
import mobyPlugin from '@enginegate/plugin-moby';
import { LogsClient, type LogSocket, type MergedJsonRecord } from '@enginegate/test-client';
import { DockerFrameDemuxer } from '@enginegate/plugin-api';
import { createService, scaleService, serviceLogsByTask, waitForRunningTasks } from '@enginegate/test-harness/swarm';
import { twoNodeSwarmForTest, type TwoNodeSwarm } from '@enginegate/test-harness/swarm-worker';

const TOKEN = 'swarm-two-nodes-token-0123456789';
const JSON_PROTOCOL = ['v1.json.enginegate'];
/** Each task: `<its hostname> n` every 0.2 s, and a stderr line every tenth. */
const TICKER =
  'i=0; while true; do i=$((i+1)); echo "$(hostname) $i"; [ $((i % 10)) = 0 ] && echo "err $i" >&2; sleep 0.2; done';

t.setTimeout(300_000);

const records = (socket: LogSocket) => socket.jsonMessages() as MergedJsonRecord[];
const lineRecords = (socket: LogSocket) => records(socket).filter((r) => r.type === 'line');
const nodeOf = (name: string) => name.slice(name.lastIndexOf('@') + 1);

function byTask(lines: MergedJsonRecord[]): Map<string, string[]> {
  const tasks = new Map<string, string[]>();
  for (const r of lines) tasks.set(r.name!, [...(tasks.get(r.name!) ?? []), r.line!]);
  return tasks;
}

/** A container's own log on the daemon that runs it (`docker logs`), as lines. */
async function ownLog(swarm: TwoNodeSwarm, containerId: string): Promise<string[]> {
  const body = await swarm.worker.dockerd.docker
    .getContainer(containerId)
    .logs({ stdout: true, stderr: true, follow: false });
  const lines: string[] = [];
  // Docker's multiplexed frames, one log entry each (plugin-api parses them as the moby plugin does).
  new DockerFrameDemuxer().push(body, (_stream, payload) => lines.push(payload.toString('utf8').replace(/\n$/, '')));
  return lines;
}

const swarm = await twoNodeSwarmForTest(t);
if (swarm) await suite(swarm);

async function suite(swarm: TwoNodeSwarm): Promise<void> {
  const { manager, worker } = swarm;
  const stateDir = await mkdtemp(join(tmpdir(), 'enginegate-swarm-nodes-'));
  t.teardown(() => rm(stateDir, { recursive: true, force: true }));
  const gateway = await createGateway({
    port: 0,
    token: TOKEN,
    stateDir,
    plugins: [mobyPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket: manager.socket } },
    logger: false,
  });
  const client = new LogsClient(await gateway.listen(), TOKEN);
  t.teardown(() => gateway.close());
  const managerName = ((await manager.docker.info()) as { Name: string }).Name;
  const bothNodes = [managerName, worker.hostname].sort();

  // Docker's spread placement puts one of two replicas on each node (at most 2 a node, for the scale-up).
  await createService(manager, 'web', TICKER, { replicas: 2, maxPerNode: 2 });
  await waitForRunningTasks(manager, 'web', 2);

  await t.test('the container list has a task on each node, the remote one named by its node', async (t) => {
    const listed = (await client.request('GET', '/passthrough/engine/containers')).json as Array<{
      id: string;
      node?: string;
      labels: Record<string, string>;
    }>;
    const web = listed.filter((c) => c.labels['com.docker.swarm.service.name'] === 'web');
    t.same(web.map((c) => c.node).sort(), bothNodes, `one task on ${bothNodes.join(' and ')}`);
  });

  await t.test('history: both nodes in one stream, in time order, each task as its node has it', async (t) => {
    const open = client.mergedSocket({ service: 'web', follow: true }, JSON_PROTOCOL);
    await open.opened;
    await open.waitFor(() => new Set(lineRecords(open).map((r) => r.name)).size >= 2, 'lines of both tasks', 30_000);
    await open.waitFor(() => lineRecords(open).length >= 40, '40 lines', 30_000);
    open.socket.close();
    const history = client.mergedSocket({ service: 'web', follow: false }, JSON_PROTOCOL);
    await history.opened;
    t.equal((await history.waitClosed(30_000)).code, 1000, 'follow=false ends');
    const lines = lineRecords(history);
    t.same([...new Set(lines.map((r) => nodeOf(r.name!)))].sort(), bothNodes, 'lines named task@node of both nodes');
    const times = lines.map((r) => r.time!);
    t.same(times, [...times].sort(), `${lines.length} lines in time order`);
    const theirs = await serviceLogsByTask(manager, 'web');
    for (const [name, own] of byTask(lines)) {
      const task = [...theirs.keys()].find((id) => name.includes(`.${id.slice(0, 12)}@`));
      t.same(own, (theirs.get(task!) ?? []).slice(0, own.length), `${name}: what docker service logs shows`);
    }
    const remote = lines.find((r) => nodeOf(r.name!) === worker.hostname)!;
    const workerLog = await ownLog(swarm, remote.container!);
    const remoteLines = byTask(lines).get(remote.name!)!;
    t.same(remoteLines, workerLog.slice(0, remoteLines.length), "the remote task's lines are the worker's own log");
  });

  await t.test('reconnect with the merged cursor: nothing repeated, nothing lost, on both nodes', async (t) => {
    const first = client.mergedSocket({ service: 'web', follow: true, tail: 5 }, JSON_PROTOCOL);
    await first.opened;
    await first.waitFor(() => lineRecords(first).length >= 60, '60 lines', 30_000);
    first.socket.close();
    await first.closed;
    const firstLines = lineRecords(first);
    const second = client.mergedSocket(
      { service: 'web', follow: true, after: firstLines.at(-1)!.cursor! },
      JSON_PROTOCOL,
    );
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
      const start = all.indexOf(lines[0]!);
      t.same(lines, all.slice(start, start + lines.length), `${name}: ${lines.length} lines, each once, none skipped`);
    }
    t.same([...new Set([...got.keys()].map(nodeOf))].sort(), bothNodes, 'compared on both nodes');
  });

  await t.test('scaled to 4 mid-stream: new tasks join on both nodes', async (t) => {
    const stream = client.mergedSocket({ service: 'web', follow: true, tail: 1 }, JSON_PROTOCOL);
    t.teardown(() => stream.socket.terminate());
    await stream.opened;
    const before = new Set(
      records(stream)
        .filter((r) => r.type === 'join')
        .map((r) => r.name),
    );
    const scaledAt = performance.now();
    await scaleService(manager, 'web', 4);
    const joined = () => records(stream).filter((r) => r.type === 'join' && !before.has(r.name));
    await stream.waitFor(() => joined().length === 2, 'two joins', 30_000);
    const seconds = (performance.now() - scaledAt) / 1000;
    t.ok(seconds < 15, `both joined ${seconds.toFixed(1)} s after the scale`);
    t.same(
      joined()
        .map((r) => nodeOf(r.name!))
        .sort(),
      bothNodes,
      'one new task on each node',
    );
    const names = joined().map((r) => r.name!);
    await stream.waitFor(
      () => names.every((name) => lineRecords(stream).some((r) => r.name === name)),
      'lines of the new tasks',
      30_000,
    );
  });

  await t.test('tasks whose process exits, on both nodes: last line, then leave with the exit code', async (t) => {
    await createService(manager, 'crash', 'echo "start $(hostname)"; sleep 3; echo bye; exit 3', {
      replicas: 2,
      maxPerNode: 1,
      restart: false,
    });
    await waitForRunningTasks(manager, 'crash', 2);
    const stream = client.mergedSocket({ service: 'crash', follow: true }, JSON_PROTOCOL);
    t.teardown(() => stream.socket.terminate());
    await stream.opened;
    const leaves = () => records(stream).filter((r) => r.type === 'leave');
    await stream.waitFor(() => leaves().length === 2, 'two leaves', 30_000);
    t.same(
      leaves()
        .map((r) => nodeOf(r.name!))
        .sort(),
      bothNodes,
      'a leave on each node',
    );
    for (const leave of leaves()) {
      t.equal(leave.exitCode, 3, `${leave.name}: the leave carries the exit code`);
      const own = lineRecords(stream).filter((r) => r.name === leave.name);
      t.equal(own.at(-1)?.line, 'bye', `${leave.name}: its last line came before its leave`);
    }
  });
}
