// The private dockerd harness itself: it starts, runs the offline busybox image, survives a
// restart on the same data-root, and leaves no daemon behind.
import t from 'tap';
import { dockerdForTest, pingDaemon, runBusybox, waitForExitCode } from '@enginegate/test-harness/dockerd';

t.test('a private dockerd runs busybox containers and restarts on its data-root', async (t) => {
  const dockerd = await dockerdForTest(t);
  if (!dockerd) return;
  t.ok(Buffer.byteLength(dockerd.socket) < 107, 'the socket path fits a sockaddr_un');

  const id = await runBusybox(dockerd, 'echo hello from busybox; exit 3');
  t.equal(await waitForExitCode(dockerd, id), 3, 'the container ran sh and exited with its code');
  const logs = await dockerd.docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false });
  t.match(logs.toString('latin1'), /hello from busybox/, 'its output is in the logs');

  const firstPid = dockerd.pid;
  await dockerd.restart();
  t.not(dockerd.pid, firstPid, 'a new dockerd process');
  const info = await dockerd.docker.getContainer(id).inspect();
  t.equal(info.State.ExitCode, 3, 'the container survived the restart (same data-root)');

  await dockerd.kill();
  t.equal(dockerd.pid, undefined, 'killed');
  await t.rejects(pingDaemon(dockerd.docker, 1000), 'no daemon answers');
  await dockerd.start();
  await t.resolves(pingDaemon(dockerd.docker, 5000), 'answers again after a crash and start');
});
