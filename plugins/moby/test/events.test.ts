// MobyEngine.events() against a real (private) dockerd: Docker's /events as container events.
import t from 'tap';
import type { ContainerEvent } from '@enginegate/plugin-api';
import { MobyEngine } from '@enginegate/plugin-moby';
import { dockerdForTest, runBusybox } from '@enginegate/test-harness/dockerd';
import { EventRecorder, LIFECYCLE_STATES } from '@enginegate/test-harness/event-recorder';
import { recordingLogger } from '@enginegate/test-harness/log-records';

t.setTimeout(120_000);
/** Each event must arrive within this long after the docker call that caused it returned. */
const BOUND_MS = 1000;

const dockerd = await dockerdForTest(t);
if (dockerd) {
  const engine = new MobyEngine({
    config: { dockerSocket: dockerd.socket },
    logger: recordingLogger(),
    reportHealth() {},
  });
  await engine.start();
  t.teardown(() => engine.stop());

  t.test('create, start, kill, remove: the four events in order, each within 1 s', async (t) => {
    const abort = new AbortController();
    t.teardown(() => abort.abort());
    const recorder = new EventRecorder(await engine.events(abort.signal));
    const labels = { 'com.docker.compose.project': 'egm-events', 'com.docker.compose.service': 'one' };
    const steps: Array<[ContainerEvent['action'], () => Promise<unknown>]> = [];
    let id = '';
    steps.push([
      'create',
      async () => (id = await runBusybox(dockerd, 'sleep 600', { name: 'egm-events', start: false, labels })),
    ]);
    steps.push(['start', () => dockerd.docker.getContainer(id).start()]);
    steps.push(['die', () => dockerd.docker.getContainer(id).kill()]);
    steps.push(['destroy', () => dockerd.docker.getContainer(id).remove()]);
    for (const [action, step] of steps) {
      await step();
      const done = performance.now();
      const arrived = await recorder.arrival(id, action);
      t.ok(arrived.at - done < BOUND_MS, `${action} within ${BOUND_MS} ms (${Math.round(arrived.at - done)} ms)`);
    }
    const mine = recorder.of(id).map((r) => r.event);
    t.same(
      mine.map((e) => [e.action, e.container.state]),
      LIFECYCLE_STATES,
      'in order, each once',
    );
    t.match(mine[0], { container: { id, names: ['egm-events'], labels, image: dockerd.image, tty: false } });
    t.equal(mine[2]!.exitCode, 137, 'die carries the exit code (SIGKILL)');
    t.ok(
      mine.every((e, i) => i === 0 || e.time >= mine[i - 1]!.time),
      "Docker's times, in order",
    );
    t.same(mine[3]!.container.labels, labels, 'destroy still describes the container');
  });

  t.test('stop() ends the iterable; while stopped, events() is a 503', async (t) => {
    const second = new MobyEngine({
      config: { dockerSocket: dockerd.socket },
      logger: recordingLogger(),
      reportHealth() {},
    });
    await second.start();
    const recorder = new EventRecorder(await second.events(new AbortController().signal));
    t.equal(second.openStreamCount, 1, 'the event stream counts as an open stream');
    await second.stop();
    t.equal(await recorder.ended, undefined, 'ended without an error');
    await t.rejects(second.events(new AbortController().signal), { code: 'ENGINE_UNAVAILABLE' });
  });
}
