// Faults of the private `podman system service` under a WebSocket follower and an NDJSON
// follower of a container writing lines (fixtures/daemon-faults.ts): SIGSTOP short and held,
// SIGCONT, and SIGKILL — only the PID the harness started — each compared with `podman logs`
// and ending with the leak check. conmon writes the log and outlives the service, so the
// container keeps writing through every fault. (plugins/podman/test/engine-lost covers SIGTERM
// and SIGKILL with one WebSocket; this adds the hung service, the NDJSON follower, the bounds
// and the leak counts.)
import t from 'tap';
import { createGateway } from '@enginegate/gateway';
import podmanPlugin, { type PodmanEngine } from '@enginegate/plugin-podman';
import { podmanForTest, runBusybox, type PrivatePodman } from '@enginegate/test-harness/podman';
import { LogsClient } from '@enginegate/test-client';
import {
  baselineFds,
  HEALTH_INTERVAL_MS,
  loseAndRecover,
  shortStop,
  type DaemonUnderTest,
} from './fixtures/daemon-faults.js';
import { connectionsTo } from './fixtures/fault-support.js';

t.setTimeout(150_000);
const podman = await podmanForTest(t);
if (podman) await suite(podman);

async function suite(podman: PrivatePodman): Promise<void> {
  const gw = await createGateway({
    port: 0,
    token: 't',
    plugins: [podmanPlugin],
    engine: 'podman',
    pluginConfig: { podman: { podmanSocket: podman.socket } },
    healthIntervalMs: HEALTH_INTERVAL_MS,
    logger: false,
  });
  t.teardown(() => gw.close());
  const client = new LogsClient(await gw.listen(), 't');
  // The plugin's agent keeps up to 4 idle keep-alive connections to the service (libpod-client.ts),
  // and a health check under way has one of its own.
  const pool = { count: () => connectionsTo(podman.socket), max: 5 };
  const name = 'fault-ticker';
  await runBusybox(podman, 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.02; done', { name });
  const d: DaemonUnderTest = {
    gw,
    client,
    name,
    fdsBefore: await baselineFds(client, name, pool),
    pool,
    daemon: podman,
    engineStreams: () => (gw.engines.engineNamed('podman') as PodmanEngine).openStreamCount,
    // conmon kept the container running: only the service starts again.
    restart: () => podman.start(),
    async engineLog() {
      const stdout = await podman.podman(['logs', name]);
      return stdout.split('\n').filter((l) => l.length > 0);
    },
  };

  t.test('SIGSTOP shorter than a health check: both followers pause, then go on with no line lost', (t) =>
    shortStop(t, d),
  );
  t.test('SIGSTOP held: 1012 and an error record within the bound, 503 meanwhile; SIGCONT: resumed exactly', (t) =>
    loseAndRecover(t, d, 'stop'),
  );
  t.test('SIGKILL: 1012 and an error record within the bound, 503 while down; restarted: resumed exactly', (t) =>
    loseAndRecover(t, d, 'kill'),
  );
}
