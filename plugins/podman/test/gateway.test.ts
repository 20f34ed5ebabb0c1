// The podman plugin through the gateway (WebSocket and plain HTTP), against a private
// `podman system service`: what the conformance suite does not already cover — live delivery
// timing, the containers and pods routes, errors before the upgrade, and no connection to the
// service left behind after many open/close cycles.
import t from 'tap';
import { createGateway, type Gateway } from '@enginegate/gateway';
import podmanPlugin, { PodmanEngine, type PodmanContainerInfo, type PodmanPodInfo } from '@enginegate/plugin-podman';
import { HttpStatusError, LogsClient, decodeJsonMessages } from '@enginegate/testkit';
import { connectionCyclesCase } from '@enginegate/test-harness/connection-cycles';
import { createPod, podmanForTest, runBusybox, type PrivatePodman } from '@enginegate/test-harness/podman';

const TOKEN = 't';
t.setTimeout(240_000);
const podman = await podmanForTest(t);
if (podman) await suite(podman);

async function suite(podman: PrivatePodman): Promise<void> {
  const gw: Gateway = await createGateway({
    port: 0,
    token: TOKEN,
    plugins: [podmanPlugin],
    engine: 'podman',
    pluginConfig: { podman: { podmanSocket: podman.socket } },
    logger: false,
  });
  const url = await gw.listen();
  t.teardown(() => gw.close());
  t.equal(gw.engines.status.state, 'running', 'the podman engine runs');
  const engine = gw.engines.engineNamed('podman') as PodmanEngine;
  const client = new LogsClient(url, TOKEN);
  const remove = (id: string) => podman.podman(['rm', '--force', '--time=0', id]).then(() => undefined);

  t.test('live: a line every 200 ms reaches the client within 100 ms of (previous arrival + 200 ms)', async (t) => {
    // Podman's times have whole seconds only: the container stamps each line itself, with its
    // uptime (10 ms steps; busybox's date has no %N).
    const id = await runBusybox(
      podman,
      'i=1; while [ $i -le 12 ]; do echo "live $i $(cut -d" " -f1 /proc/uptime)"; i=$((i+1)); sleep 0.2; done; sleep 600',
    );
    t.teardown(() => remove(id));
    const session = await client.openSocket(id, {}, 'json');
    await session.waitFor((messages) => messages.length >= 12, '12 lines', 20_000);
    const records = decodeJsonMessages(session.messages).filter((r) => r.type === 'line');
    t.same(
      records.map((r) => r.bytes.toString().split(' ').slice(0, 2).join(' ')),
      Array.from({ length: 12 }, (_, i) => `live ${i + 1}`),
    );
    const writtenMs = records.map((r) => Number(r.bytes.toString().split(' ')[2]) * 1000);
    t.ok(
      writtenMs.every((ms) => Number.isFinite(ms) && ms > 0),
      'every line carries the time the container wrote it',
    );
    const arrivedMs = session.messages.map((m) => performance.timeOrigin + m.at);
    const excess = arrivedMs.slice(1).map((at, i) => at - arrivedMs[i]! - (writtenMs[i + 1]! - writtenMs[i]!));
    // One stall of a loaded machine makes one arrival late (the next gap is then short); lines held
    // back for batching would make most of them late.
    const late = excess.slice(1).filter((ms) => ms > 100);
    t.ok(
      late.length <= 1 && late.every((ms) => ms < 1000),
      `each line within 100 ms of (previous arrival + the container's interval), one stall allowed (late: ${JSON.stringify(late.map(Math.round))}; max ${Math.max(...excess.slice(1)).toFixed(0)} ms)`,
    );
    session.close();
    await session.waitClosed();
  });

  t.test('GET /passthrough/engine/containers and /passthrough/podman/pods: labels and pods', async (t) => {
    const podId = await createPod(podman, 'egp-gw-pod', { app: 'shop' });
    t.teardown(() => podman.podman(['pod', 'rm', '--force', '--time=0', 'egp-gw-pod']));
    const web = await runBusybox(podman, 'sleep 600', {
      name: 'egp-gw-web',
      pod: 'egp-gw-pod',
      labels: { role: 'web' },
    });
    const containers = (await client.request('GET', '/passthrough/engine/containers')).json as PodmanContainerInfo[];
    t.match(
      containers.find((c) => c.id === web),
      { names: ['egp-gw-web'], labels: { role: 'web' }, pod: { id: podId, name: 'egp-gw-pod' }, state: 'running' },
    );
    const discovery = (await client.request('GET', '/passthrough')).json as {
      endpoints: Array<Record<string, string>>;
    };
    t.ok(
      discovery.endpoints.some((e) => e['controller'] === 'podman' && e['endpoint'] === 'pods'),
      'discovery lists the pods endpoint',
    );
    const pods = (await client.request('GET', '/passthrough/podman/pods')).json as PodmanPodInfo[];
    t.match(
      pods.find((p) => p.id === podId),
      { name: 'egp-gw-pod', labels: { app: 'shop' } },
    );
  });

  t.test('errors before the upgrade: 404, 400, 501', async (t) => {
    const missing = await client.readHttp('egp-nope', {});
    t.equal(missing.status, 404);
    t.match(JSON.parse(missing.body.toString()), { error: { code: 'CONTAINER_NOT_FOUND' } });
    t.equal((await client.readHttp('-x', {})).status, 400);
    const none = await runBusybox(podman, 'echo x', { logDriver: 'none' });
    const refused = await client.openSocket(none, {}, 'json').then(
      () => undefined,
      (err: unknown) => err,
    );
    t.ok(refused instanceof HttpStatusError && refused.status === 501, 'the none log driver: 501 before the upgrade');
  });

  connectionCyclesCase(t, {
    daemon: 'Podman',
    socket: podman.socket,
    client,
    openStreams: () => ({ gateway: gw.openStreams, engine: engine.openStreamCount }),
    run: (script) => runBusybox(podman, script),
    remove,
  });
}
