// The moby engine on a Docker Swarm manager (a private dockerd made a one-node swarm): services
// and their tasks through GET /passthrough/moby/services, task containers in containers()
// named by their node, and the role of a daemon outside a swarm.
import t from 'tap';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { MobyEngine } from '@enginegate/plugin-moby';
import type { SwarmService, SwarmView } from '@enginegate/plugin-moby';
import { dockerdForTest } from '@enginegate/test-harness/dockerd';
import { recordingLogger } from '@enginegate/test-harness/log-records';
import {
  createService,
  initSwarm,
  serviceTasks,
  waitForRunningTasks,
  type ServiceTask,
} from '@enginegate/test-harness/swarm';

const dockerd = await dockerdForTest(t);
if (dockerd) {
  const engine = new MobyEngine({
    config: { dockerSocket: dockerd.socket },
    logger: recordingLogger(),
    reportHealth: () => undefined,
  });
  await engine.start();
  t.teardown(() => engine.stop());
  const services = async (): Promise<SwarmView> => {
    const endpoint = engine.passthroughs().find((p) => p.controller === 'moby' && p.endpoint === 'services');
    if (endpoint === undefined) throw new Error('no moby/services passthrough');
    return (await endpoint.handler({ params: {}, query: {} })) as SwarmView;
  };

  await t.test('outside a swarm: role none, no services, containers without a node', async (t) => {
    const view = await services();
    t.equal(view.role, 'none');
    t.same(view.services, []);
    t.equal(view.hostname, hostname(), "the daemon's hostname");
  });

  await t.test('a service with 2 replicas: its tasks, their containers and their node', async (t) => {
    await initSwarm(dockerd);
    await createService(dockerd, 'web', 'while true; do echo "up $(hostname)"; sleep 1; done', { replicas: 2 });
    const running = await waitForRunningTasks(dockerd, 'web', 2);
    const view = await services();
    t.equal(view.role, 'manager');
    t.ok(view.nodeId, "the manager's node ID");
    const web = view.services.find((s) => s.name === 'web');
    t.ok(web, 'the service is listed');
    t.equal(web?.mode, 'replicated');
    t.equal(web?.replicas, 2);
    t.equal(web?.image, dockerd.image);
    const tasks = (web?.tasks ?? []).filter((task) => task.state === 'running');
    t.same(tasks.map((task) => task.name).sort(), ['web.1', 'web.2'], 'named by slot, as docker service ps does');
    t.same(tasks.map((task) => task.id).sort(), running.map((task) => task.id).sort(), 'the running tasks');
    t.ok(
      tasks.every((task) => task.node === view.hostname && task.nodeId === view.nodeId),
      'each on this node, by hostname',
    );

    const containers = await engine.containers();
    for (const task of tasks) {
      const container = containers.find((c) => c.id === task.containerId);
      t.ok(container, `${task.name}'s container is in the list`);
      t.equal(container?.node, view.hostname, `${task.name}'s container names its node`);
      t.equal(container?.labels['com.docker.swarm.service.name'], 'web', "and carries the swarm's labels");
      t.equal(container?.labels['com.docker.swarm.task.id'], task.id);
      t.match(container?.names[0], new RegExp(`^${task.name}\\.${task.id}$`), 'the container is named by its task');
    }
  });

  await t.test('a task whose process exits is replaced: its exit code stays in the history', async (t) => {
    await createService(dockerd, 'once', 'echo "run $(date +%s%N)"; sleep 1; exit 3', { replicas: 1 });
    let failed: ServiceTask | undefined;
    for (let i = 0; i < 300 && failed === undefined; i++) {
      failed = (await serviceTasks(dockerd, 'once')).find((task) => task.state === 'failed');
      if (failed === undefined) await sleep(100);
    }
    t.ok(failed, 'a task failed');
    // The orchestrator marks the failed task for shutdown and starts its replacement a moment
    // after the task's own state says failed (seconds later on a loaded machine).
    const replaced = (service: SwarmService | undefined) =>
      service?.tasks.some((task) => task.id === failed?.id && task.desiredState === 'shutdown') === true &&
      service.tasks.some((task) => task.id !== failed?.id && task.name === 'once.1');
    let once: SwarmService | undefined;
    for (let i = 0; i < 150; i++) {
      once = (await services()).services.find((s) => s.name === 'once');
      if (replaced(once)) break;
      await sleep(100);
    }
    const listed = once?.tasks.find((task) => task.id === failed?.id);
    t.equal(listed?.exitCode, 3, 'the failed task carries its exit code');
    t.match(listed?.error, /non-zero exit \(3\)/, "and Docker's error");
    t.equal(listed?.desiredState, 'shutdown');
    t.ok(
      once?.tasks.some((task) => task.id !== failed?.id && task.name === 'once.1'),
      'a new task took slot 1',
    );
  });
}
