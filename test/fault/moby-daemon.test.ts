// Faults of a private dockerd under a WebSocket follower and an NDJSON follower of a container
// writing lines (fixtures/daemon-faults.ts): SIGSTOP short and held, SIGCONT, and SIGKILL, each
// compared with `docker logs` and ending with the leak check. (plugins/moby/test/engine-lost
// covers a WebSocket's 1012 under SIGTERM/SIGKILL and the 503 while down; this adds the hung
// daemon, the NDJSON follower, the bounds and the leak counts.)
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createGateway } from '@enginegate/gateway';
import mobyPlugin, { type MobyEngine } from '@enginegate/plugin-moby';
import { dockerdForTest, runBusybox, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { LogsClient } from '@enginegate/test-client';
import {
  baselineFds,
  HEALTH_INTERVAL_MS,
  loseAndRecover,
  shortStop,
  type DaemonUnderTest,
} from './fixtures/daemon-faults.js';

const run = promisify(execFile);

t.setTimeout(150_000);
const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const gw = await createGateway({
    port: 0,
    token: 't',
    plugins: [mobyPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket: dockerd.socket } },
    healthIntervalMs: HEALTH_INTERVAL_MS,
    logger: false,
  });
  t.teardown(() => gw.close());
  const client = new LogsClient(await gw.listen(), 't');
  const name = 'fault-ticker';
  await runBusybox(dockerd, 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.02; done', { name });
  const d: DaemonUnderTest = {
    gw,
    client,
    name,
    fdsBefore: await baselineFds(client, name),
    daemon: dockerd,
    engineStreams: () => (gw.engines.engineNamed('moby') as MobyEngine).openStreamCount,
    async restart() {
      await dockerd.start();
      // Without live-restore, the container went down with the daemon: start it again.
      await dockerd.docker.getContainer(name).start();
    },
    async engineLog() {
      const { stdout } = await run('docker', ['-H', dockerd.host, 'logs', name], { maxBuffer: 16 * 1024 * 1024 });
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
