// A Podman pod's containers as one merged stream (`pod=NAME` or the pod's ID), against a private
// `podman system service`: its containers join (not its infra container, not a container outside
// the pod), one added to the pod later joins live, each member's lines are its `podman logs`, and
// `enginegate logs --pod NAME` prints them with name prefixes.
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FRAMING_PROTOCOL } from '@enginegate/testkit';
import { podmanGateway } from './fixtures/podman-gateway.js';
import { createPod, podmanForTest, runBusybox, type PrivatePodman } from '@enginegate/test-harness/podman';

const TOKEN = 'pods-token';
const POD = 'egp-shop';
const CLI_BIN = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));
/** A container added to the pod must join within this long after its `podman run` returned. */
const JOIN_BOUND_MS = 1000;
t.setTimeout(180_000);
const run = promisify(execFile);
const podman = await podmanForTest(t);
if (podman) await suite(podman);

/** A record of a merged stream in the JSON framing, as far as this test looks at it. */
interface MergedMessage {
  type: string;
  container?: string;
  name?: string;
  line?: string;
  stream?: string;
}

/** A script writing `count` numbered lines, odd ones to stderr, then sleeping. */
function writer(label: string, count: number): string {
  return `i=1; while [ $i -le ${count} ]; do if [ $((i % 2)) = 1 ]; then echo "${label} $i" >&2; else echo "${label} $i"; fi; i=$((i+1)); sleep 0.05; done; sleep 600`;
}

async function podmanLogs(podman: PrivatePodman, id: string): Promise<string[]> {
  const { stdout, stderr } = await run('podman', [...podman.globalArgs, 'logs', id], { env: podman.env });
  return [...stdout.split('\n'), ...stderr.split('\n')].filter((l) => l !== '').sort();
}

async function suite(podman: PrivatePodman): Promise<void> {
  const { url, client } = await podmanGateway(t, podman, TOKEN);
  const podId = await createPod(podman, POD);
  t.teardown(() => podman.podman(['pod', 'rm', '--force', '--time=0', POD]));
  const web = await runBusybox(podman, writer('web', 20), { name: `${POD}-web`, pod: POD });
  const db = await runBusybox(podman, writer('db', 20), { name: `${POD}-db`, pod: POD });
  const outsider = await runBusybox(podman, writer('outsider', 20), { name: 'egp-outsider' });
  t.teardown(() => podman.podman(['rm', '--force', '--time=0', outsider]));

  t.test('pod=NAME: its containers, live; one added to the pod joins', async (t) => {
    const stream = client.mergedSocket({ pod: POD, follow: true }, [FRAMING_PROTOCOL.json]);
    t.teardown(() => stream.close());
    const records = () => stream.jsonMessages() as MergedMessage[];
    const linesOf = (id: string) => records().filter((r) => r.type === 'line' && r.container === id);
    await stream.waitFor(() => linesOf(web).length >= 20 && linesOf(db).length >= 20, '20 lines of each', 20_000);
    const joined = () => records().filter((r) => r.type === 'join');
    t.same(
      joined().map((r) => r.name),
      [`${POD}-db`, `${POD}-web`],
      'the pod’s two containers join, by name: not its infra container, not the one outside',
    );
    t.notOk(
      records().some((r) => r.container === outsider),
      'nothing of the container outside the pod',
    );
    t.ok(
      linesOf(web).some((r) => r.stream === 'stderr') && linesOf(web).some((r) => r.stream === 'stdout'),
      'both streams of a member',
    );

    const late = await runBusybox(podman, writer('late', 4), { name: `${POD}-late`, pod: POD });
    const ranAt = performance.now();
    await stream.waitFor(() => linesOf(late).length >= 4, 'the late container’s 4 lines', 20_000);
    const joinAt = stream.messages[records().findIndex((r) => r.type === 'join' && r.container === late)]!.at;
    t.ok(
      joinAt - ranAt < JOIN_BOUND_MS,
      `the container added to the pod joined ${Math.round(joinAt - ranAt)} ms after its podman run returned`,
    );
    t.same(
      linesOf(late).map((r) => r.line),
      ['late 1', 'late 2', 'late 3', 'late 4'],
      'its lines, in order',
    );
  });

  t.test("pod=<ID>, follow=false: each member's lines are its podman logs", async (t) => {
    const answer = await client.get(`/passthrough/engine/logs?pod=${podId}&follow=false`, {
      accept: 'application/x-ndjson',
    });
    t.equal(answer.status, 200);
    const records = answer.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as MergedMessage);
    const members = records.filter((r) => r.type === 'join').map((r) => r.container!);
    t.equal(members.length, 3, 'three members: web, db and the late one');
    for (const id of members) {
      const mine = records.filter((r) => r.type === 'line' && r.container === id).map((r) => r.line!);
      t.same(mine.sort(), await podmanLogs(podman, id), `${id.slice(0, 12)}: its podman logs`);
    }
  });

  t.test('enginegate logs --pod NAME: the pod’s lines with name prefixes', async (t) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ENGINEGATE_URL: url, ENGINEGATE_TOKEN: TOKEN };
    for (const key of ['DOCKER_HOST', 'CONTAINERD_ADDRESS', 'CONTAINER_HOST', 'ENGINEGATE_STATE_DIR', 'FORCE_COLOR'])
      delete env[key];
    const { stdout, stderr } = await run(process.execPath, [CLI_BIN, 'logs', '--pod', POD], { env });
    t.match(stdout, new RegExp(`^${POD}-web +\\| web 20$`, 'm'), 'a stdout line of web, prefixed');
    t.match(stderr, new RegExp(`^${POD}-db +\\| db 19$`, 'm'), 'a stderr line of db on stderr, prefixed');
    t.notMatch(stdout + stderr, /outsider|infra/, 'nothing of other containers');
  });
}
