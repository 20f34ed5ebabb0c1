// The private Podman harness itself: the service starts on its own storage, runs the offline
// busybox image (in a pod too), survives a restart and a crash, and leaves nothing behind.
import t from 'tap';
import { existsSync } from 'node:fs';
import { createPod, podmanForTest, runBusybox, waitForExitCode } from '@enginegate/test-harness/podman';

t.test('a private podman service runs busybox containers and restarts on its storage', async (t) => {
  const podman = await podmanForTest(t);
  if (!podman) return;
  t.ok(Buffer.byteLength(podman.socket) < 107, 'the socket path fits a sockaddr_un');
  t.ok(await podman.answers(2000), 'the service answers _ping');

  const started = performance.now();
  const id = await runBusybox(podman, 'echo hello from busybox; echo on stderr >&2; exit 3', { labels: { a: 'b' } });
  t.comment(`podman run -d took ${(performance.now() - started).toFixed(0)} ms`);
  t.equal(
    await waitForExitCode(podman, id),
    3,
    'the container ran sh (with the rlimits of the private config) and exited with its code',
  );
  const logs = await podman.podman(['logs', id]);
  t.match(logs, /hello from busybox/, 'its output is in the logs');
  t.equal(
    (await podman.podman(['inspect', '--format', '{{index .Config.Labels "a"}}', id])).trim(),
    'b',
    'with its label',
  );

  const podId = await createPod(podman, 'harness-pod', { app: 'x' });
  const inPod = await runBusybox(podman, 'echo in the pod', { pod: 'harness-pod' });
  t.equal(await waitForExitCode(podman, inPod), 0, 'a container runs in a pod');
  t.equal((await podman.podman(['inspect', '--format', '{{.Pod}}', inPod])).trim(), podId, 'and belongs to it');

  const firstPid = podman.pid;
  await podman.restart();
  t.not(podman.pid, firstPid, 'a new service process');
  t.ok(await podman.answers(2000), 'it answers again');
  await podman.kill();
  t.equal(podman.pid, undefined, 'killed');
  t.notOk(await podman.answers(500), 'no service answers');
  await podman.start();
  t.ok(await podman.answers(2000), 'answers again after a crash and start');
  const dir = podman.dir;
  await podman.destroy();
  t.notOk(existsSync(dir), 'destroy() removed its directory');
});
