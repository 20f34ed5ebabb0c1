// ContainerdEngine.events() on a private containerd: its own events (Events.Subscribe) as
// container events, directly and through the gateway's GET /passthrough/engine/events. A
// container created, started, killed and removed with ctr shows as create, start, die (exit
// code) and destroy, in that order, each within 1 s; exec'd processes and Docker's namespace
// make none; losing the daemon ends the iterable with ENGINE_UNAVAILABLE.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerEvent } from '@enginegate/plugin-api';
import { containerdForTest, uniqueId, type PrivateContainerd } from '@enginegate/test-harness/containerd';
import { EventRecorder, LIFECYCLE_STATES } from '@enginegate/test-harness/event-recorder';
import { startEngine } from './fixtures/engine-support.js';
import { startGateway } from './fixtures/gateway.js';

t.setTimeout(180_000);
/** Each event must arrive within this long after the ctr command that caused it returned. */
const BOUND_MS = 1000;

/** The ctr commands of one container's life, by the event each must cause. */
function lifecycleSteps(
  cd: PrivateContainerd,
  id: string,
  labels: Record<string, string>,
): [ContainerEvent['action'], string[]][] {
  const ns = ['-n', cd.namespace];
  const labelArgs = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  // No argument may start with a dash: `ctr containers create` reorders flags before positionals.
  return [
    ['create', [...ns, 'containers', 'create', ...labelArgs, '--rootfs', cd.rootfs, id, '/bin/sleep', '600']],
    ['start', [...ns, 'tasks', 'start', '-d', id]],
    ['die', [...ns, 'tasks', 'kill', '-s', 'SIGKILL', id]],
    // Deleting the stopped task is no event of the contract; removing the container is.
    ['destroy', [...ns, 'containers', 'rm', id]],
  ];
}

const cd = await containerdForTest(t);
if (cd) {
  const { engine } = await startEngine(cd);
  t.teardown(() => engine.stop());

  t.test('engine: create, start, kill, remove: the four events in order, each within 1 s', async (t) => {
    const abort = new AbortController();
    t.teardown(() => abort.abort());
    const recorder = new EventRecorder(await engine.events(abort.signal));
    const id = uniqueId('ev');
    const labels = { 'nerdctl/name': 'ev-web', 'com.docker.compose.project': 'egc-events' };
    for (const [action, args] of lifecycleSteps(cd, id, labels)) {
      if (action === 'destroy') await cd.ctr(['-n', cd.namespace, 'tasks', 'rm', id]);
      await cd.ctr(args);
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
    const listed = { id, names: ['ev-web'], namespace: cd.namespace, labels, tty: false };
    t.match(mine[0], { container: listed }, 'named and labelled as the listing names them');
    t.equal(mine[2]!.exitCode, 137, 'die carries the exit code (SIGKILL)');
    t.match(mine[3], { container: listed }, 'destroy still describes the container');
    t.ok(
      mine.every((e, i) => i === 0 || e.time >= mine[i - 1]!.time),
      "containerd's times, in order",
    );
  });

  t.test('engine: an exec’d process that exits is no die; Docker’s namespace makes no events', async (t) => {
    const abort = new AbortController();
    t.teardown(() => abort.abort());
    const recorder = new EventRecorder(await engine.events(abort.signal));
    const id = uniqueId('exec');
    await cd.runTask({ id, script: 'sleep 600' });
    const exec = ['-n', cd.namespace, 'tasks', 'exec', '--exec-id', 'probe', id, '/bin/sh', '-c', 'exit 3'];
    const execCode = await cd.ctr(exec).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
    t.equal(execCode, 3, 'the exec’d process ran and exited 3 (ctr passes its code on)');
    const hidden = uniqueId('docker');
    await cd.runTask({ id: hidden, namespace: 'moby', script: 'exit 0' });
    await cd.waitForTaskStopped(hidden, 'moby');
    // A marker after both: once its start is seen, whatever they caused has been seen too.
    const marker = uniqueId('marker');
    await cd.runTask({ id: marker, script: 'sleep 600' });
    await recorder.arrival(marker, 'start');
    t.same(
      recorder.of(id).map((r) => r.event.action),
      ['create', 'start'],
      'the exec exit (3) did not make the container die',
    );
    t.same(recorder.of(hidden), [], 'nothing of the moby namespace');
    for (const task of [id, marker]) await cd.ctr(['-n', cd.namespace, 'tasks', 'kill', '-s', 'SIGKILL', task]);
    for (const task of [id, marker]) await recorder.arrival(task, 'die');
  });

  t.test('engine: aborting releases the iterable; stop() ends it; events() of a stopped engine is a 503', async (t) => {
    const abort = new AbortController();
    await engine.events(abort.signal);
    t.equal(engine.resources.eventStreams, 1, 'counted while open');
    abort.abort();
    t.equal(engine.resources.eventStreams, 0, 'released at the abort');
    t.equal(engine.resources.subscriptions, 1, 'one subscription to containerd, shared with the task-exit monitor');

    const second = await startEngine(cd);
    const recorder = new EventRecorder(await second.engine.events(new AbortController().signal));
    await second.engine.stop();
    t.equal(await recorder.ended, undefined, 'ended without an error');
    await t.rejects(second.engine.events(new AbortController().signal), { code: 'ENGINE_UNAVAILABLE' });
  });

  t.test('gateway: GET /passthrough/engine/events shows create, start, die, destroy within 1 s', async (t) => {
    const { gw, client } = await startGateway(cd);
    t.teardown(() => gw.close());
    const socket = client.socket('/passthrough/engine/events', ['v1.json.enginegate']);
    t.teardown(() => socket.close());
    await socket.waitFor((m) => m.some((x) => x.data.toString() === '{"type":"synced"}'), 'synced');
    const id = uniqueId('gwev');
    const records = () =>
      socket.messages.map((m) => ({ ...(JSON.parse(m.data.toString()) as GatewayEvent), at: m.at }));
    const delays: string[] = [];
    for (const [action, args] of lifecycleSteps(cd, id, { 'nerdctl/name': 'gwev' })) {
      if (action === 'destroy') await cd.ctr(['-n', cd.namespace, 'tasks', 'rm', id]);
      const before = performance.now();
      await cd.ctr(args);
      const done = performance.now();
      const find = () => records().find((r) => r.action === action && r.container?.id === id);
      await socket.waitFor(() => find() !== undefined, action, 5_000);
      const delay = find()!.at - done;
      delays.push(
        `${action} ${Math.round(delay)} ms after ctr returned (${Math.round(find()!.at - before)} ms after it began)`,
      );
      t.ok(delay < BOUND_MS, `${action} within ${BOUND_MS} ms of the ctr command (${Math.round(delay)} ms)`);
    }
    t.comment(`events delays: ${delays.join('; ')}`);
    const mine = records().filter((r) => r.container?.id === id);
    t.same(
      mine.map((r) => r.action),
      LIFECYCLE_STATES.map(([action]) => action),
      'once each, in order',
    );
    t.match(mine[2], { exitCode: 137, container: { state: 'exited', names: ['gwev'] } });
    t.match(mine[3], { container: { state: 'removed', names: ['gwev'], namespace: cd.namespace } });
    t.ok(
      mine.every((r) => typeof r.time === 'string'),
      'each with its time',
    );
  });

  t.test(
    'engine: containerd killed: the iterable ends with ENGINE_UNAVAILABLE; back, events() works again',
    async (t) => {
      const recorder = new EventRecorder(await engine.events(new AbortController().signal));
      await cd.kill();
      const error = await recorder.ended;
      t.match(error, { code: 'ENGINE_UNAVAILABLE', message: /event stream lost/ });
      await t.rejects(engine.events(new AbortController().signal), { code: 'ENGINE_UNAVAILABLE' }, 'a 503 while down');
      await cd.start();
      const abort = new AbortController();
      t.teardown(() => abort.abort());
      let again: AsyncIterable<ContainerEvent[]> | undefined;
      const deadline = Date.now() + 15_000;
      while (again === undefined && Date.now() < deadline) {
        again = await engine.events(abort.signal).catch(async () => {
          await sleep(100);
          return undefined;
        });
      }
      t.ok(again, 'subscribed again once containerd was back');
      const recorderAgain = new EventRecorder(again!);
      const id = uniqueId('back');
      await cd.runTask({ id, script: 'exit 2' });
      t.equal((await recorderAgain.arrival(id, 'die')).event.exitCode, 2, 'events as before');
    },
  );
}

interface GatewayEvent {
  type: string;
  action?: string;
  container?: { id: string; names: string[]; state: string; namespace?: string };
  time?: string;
  exitCode?: number;
}
