// Faults of a private containerd under a WebSocket follower and an NDJSON follower of a task
// writing lines to a `ctr --log-uri file://` log (fixtures/daemon-faults.ts): SIGSTOP short and
// held, SIGCONT, and SIGKILL, each compared with the log file itself and ending with the leak
// check. The shim writes the file and outlives the daemon, so the task keeps writing through
// every fault. (plugins/containerd/test/gateway-restart-leaks covers a WebSocket's 1012 under
// SIGKILL and the 503; this adds the hung daemon, the NDJSON follower, resuming, the bounds.)
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdForTest, uniqueId, waitForFile } from '@enginegate/test-harness/containerd';
import { containerdGateway } from './fixtures/containerd-gateway.js';
import { baselineFds, loseAndRecover, shortStop, type DaemonUnderTest } from './fixtures/daemon-faults.js';

t.setTimeout(150_000);
const cd = await containerdForTest(t);
if (cd) {
  const { gw, client, engine } = await containerdGateway(cd);
  t.teardown(() => gw.close());
  const name = uniqueId('fault-ticker');
  const log = join(cd.logDir, `${name}.log`);
  await cd.runTask({
    id: name,
    logUri: `file://${log}`,
    script: 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.02; done',
  });
  await waitForFile(log, 20);
  const d: DaemonUnderTest = {
    gw,
    client,
    name,
    fdsBefore: await baselineFds(client, name),
    daemon: cd,
    engineStreams: () => engine().resources.openStreams,
    restart: () => cd.start(),
    engineLog: async () => (await readFile(log, 'utf8')).split('\n').filter((l) => l.length > 0),
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
  t.test('the engine holds no stream, task watch or extra subscription afterwards', async (t) => {
    t.same(engine().resources, { openStreams: 0, subscriptions: 1, taskWatches: 0, eventStreams: 0 });
  });
}
