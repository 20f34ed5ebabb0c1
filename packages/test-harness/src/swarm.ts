// A private dockerd made a one-node Docker Swarm for the swarm suites, and services on it.
//
//   const dockerd = await swarmForTest(t);                  // a private dockerd, swarm manager
//   if (!dockerd) return;
//   await createService(dockerd, 'web', 'while true; do echo hi; sleep 1; done', { replicas: 2 });
//   await waitForRunningTasks(dockerd, 'web', 2);
//
// What works on these machines (see engines-here.md): `--advertise-addr 127.0.0.1` and a
// loopback listen address; services only with the host network (the ingress and overlay
// networks cannot start tasks without a bridge and iptables). The swarm is left (`--force`)
// before the daemon stops: PrivateDockerd.destroy() does that.
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';
import { dockerdForTest, type PrivateDockerd } from './dockerd.js';

/** One task of a service, as the tests look at it. */
export interface ServiceTask {
  id: string;
  slot?: number;
  state: string;
  desiredState: string;
  containerId?: string;
  exitCode?: number;
}

export interface ServiceOptions {
  replicas?: number;
  /** Restart a task whose process exited (default true), after `restartDelayMs` (default 100). */
  restart?: boolean;
  restartDelayMs?: number;
  /** At most this many tasks on one node (`--replicas-max-per-node`). */
  maxPerNode?: number;
}

const WAIT_TIMEOUT_MS = 60_000;

/** A free TCP port on `host` (for the swarm's listen address). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port for the swarm');
  return address.port;
}

/** Makes the daemon a one-node swarm manager on loopback. */
export async function initSwarm(dockerd: PrivateDockerd): Promise<void> {
  const port = await freePort();
  await dockerd.docker.swarmInit({ ListenAddr: `127.0.0.1:${port}`, AdvertiseAddr: '127.0.0.1' });
}

/**
 * A private dockerd that is a one-node swarm manager, for a tap test: skipped (or failed, under
 * `ENGINEGATE_REQUIRE_ENGINES=moby`) like dockerdForTest; the swarm is left before it stops.
 */
export async function swarmForTest(t: Test): Promise<PrivateDockerd | undefined> {
  const dockerd = await dockerdForTest(t);
  if (dockerd === undefined) return undefined;
  await initSwarm(dockerd);
  return dockerd;
}

/** Creates a replicated service of the busybox image running `sh -c script` on the host network. */
export async function createService(
  dockerd: PrivateDockerd,
  name: string,
  script: string,
  options: ServiceOptions = {},
): Promise<string> {
  const service = (await dockerd.docker.createService({
    Name: name,
    TaskTemplate: {
      ContainerSpec: { Image: dockerd.image, Command: ['sh', '-c', script], StopGracePeriod: 1_000_000_000 },
      Networks: [{ Target: 'host' }],
      RestartPolicy: {
        Condition: options.restart === false ? 'none' : 'any',
        Delay: (options.restartDelayMs ?? 100) * 1_000_000,
        MaxAttempts: 0,
      },
      ...(options.maxPerNode !== undefined && { Placement: { MaxReplicas: options.maxPerNode } }),
    },
    Mode: { Replicated: { Replicas: options.replicas ?? 1 } },
  })) as unknown as { id?: string; ID?: string };
  return service.id ?? service.ID ?? name;
}

/** Sets a replicated service's replica count (`docker service scale NAME=N`). */
export async function scaleService(dockerd: PrivateDockerd, name: string, replicas: number): Promise<void> {
  const service = dockerd.docker.getService(name);
  const info = (await service.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
  await service.update({
    ...info.Spec,
    version: info.Version.Index,
    Mode: { Replicated: { Replicas: replicas } },
  });
}

/** The tasks of a service, history included. */
export async function serviceTasks(dockerd: PrivateDockerd, name: string): Promise<ServiceTask[]> {
  const tasks = (await dockerd.docker.listTasks({ filters: { service: [name] } })) as Array<{
    ID: string;
    Slot?: number;
    DesiredState: string;
    Status: { State: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  }>;
  return tasks.map((task) => ({
    id: task.ID,
    ...(task.Slot !== undefined ? { slot: task.Slot } : {}),
    state: task.Status.State,
    desiredState: task.DesiredState,
    ...(task.Status.ContainerStatus?.ContainerID ? { containerId: task.Status.ContainerStatus.ContainerID } : {}),
    ...(task.Status.ContainerStatus?.ExitCode !== undefined ? { exitCode: task.Status.ContainerStatus.ExitCode } : {}),
  }));
}

/** Waits until `count` tasks of the service are running (each with its container); returns them. */
export async function waitForRunningTasks(
  dockerd: PrivateDockerd,
  name: string,
  count: number,
  timeoutMs = WAIT_TIMEOUT_MS,
): Promise<ServiceTask[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = (await serviceTasks(dockerd, name)).filter(
      (task) => task.state === 'running' && task.desiredState === 'running' && task.containerId !== undefined,
    );
    if (running.length === count) return running;
    if (Date.now() > deadline) {
      throw new Error(`service ${name}: ${running.length} running tasks after ${timeoutMs} ms, not ${count}`);
    }
    await sleep(200);
  }
}

/** Leaves the swarm (`docker swarm leave --force`); a daemon not in one is left alone. */
export async function leaveSwarm(dockerd: PrivateDockerd): Promise<void> {
  await dockerd.docker.swarmLeave({ force: true }).catch((err: unknown) => {
    if (!/not part of a swarm/i.test((err as Error).message)) throw err;
  });
}

/**
 * `docker service logs --details NAME` through the Engine API (`/services/{id}/logs`): each
 * task's lines, by task ID, in the order Docker sends them.
 */
export async function serviceLogsByTask(dockerd: PrivateDockerd, service: string): Promise<Map<string, string[]>> {
  const body = (await dockerd.docker
    .getService(service)
    .logs({ stdout: true, stderr: true, follow: false, details: true })) as Buffer | NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  if (Buffer.isBuffer(body)) chunks.push(body);
  else for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer));
  const raw = Buffer.concat(chunks);
  const tasks = new Map<string, string[]>();
  // Docker's frames: 8 bytes (stream, 0, 0, 0, length) then the payload.
  for (let at = 0; at + 8 <= raw.length;) {
    const length = raw.readUInt32BE(at + 4);
    const text = raw.subarray(at + 8, at + 8 + length).toString('utf8');
    at += 8 + length;
    const match = /com\.docker\.swarm\.task\.id=(\w+)\S* (.*)\n$/.exec(text);
    if (match) tasks.set(match[1]!, [...(tasks.get(match[1]!) ?? []), match[2]!]);
  }
  return tasks;
}
