// A two-node Docker Swarm on one machine: the private dockerd of dockerd.ts as the manager, and a
// second private dockerd, in its own network namespace and with its own hostname, joined as a
// worker — so that a service's tasks really run on two nodes.
//
//   const swarm = await twoNodeSwarmForTest(t);   // skipped (or failed) like dockerdForTest
//   if (!swarm) return;
//   await createService(swarm.manager, 'web', script, { replicas: 2, maxPerNode: 1 });
//
// What works here (checked by hand, see docs/swarm-nodes.md): `ip netns add` and a veth pair
// with an address on each end; the worker started with `nsenter --net=` (NOT `ip netns exec`:
// that remounts /sys, the cgroup mounts vanish and dockerd fails with "Devices cgroup isn't
// mounted") and `unshare --uts` for its hostname; the manager listening on its veth address.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { daemonForTest, findOnPath } from './daemon-process.js';
import { dockerdForTest, startDockerd, type PrivateDockerd } from './dockerd.js';
import { freePort, leaveSwarm } from './swarm.js';

const run = promisify(execFile);

/** The worker's hostname: the node name its tasks' lines carry (`web.2.<task>@enginegate-worker`). */
export const WORKER_HOSTNAME = 'enginegate-worker';

/** The worker node of a two-node swarm; destroy() leaves the swarm and removes everything it made. */
export interface SwarmWorker {
  readonly dockerd: PrivateDockerd;
  readonly hostname: string;
  /** The worker's address (its end of the veth pair). */
  readonly address: string;
  destroy(): Promise<void>;
}

export interface TwoNodeSwarm {
  /** Swarm manager, in this machine's network namespace, listening on its veth address. */
  manager: PrivateDockerd;
  worker: SwarmWorker;
}

/** A network namespace and a veth pair into it, named after this process (names stay under 16 bytes). */
class WorkerNetwork {
  readonly namespace = `egsw${process.pid}`;
  readonly hostSide = `egsw${process.pid}a`;
  private readonly nsSide = `egsw${process.pid}b`;
  /** A /30 of 10.231.0.0/16, by PID, so that two processes' networks do not meet. */
  readonly managerAddress = `10.231.${process.pid % 256}.${(Math.floor(process.pid / 256) % 64) * 4 + 1}`;
  readonly workerAddress = this.managerAddress.replace(/\d+$/, (last) => String(Number(last) + 1));

  async create(): Promise<void> {
    const inNs = ['netns', 'exec', this.namespace, 'ip'];
    const steps = [
      ['netns', 'add', this.namespace],
      ['link', 'add', this.hostSide, 'type', 'veth', 'peer', 'name', this.nsSide],
      ['link', 'set', this.nsSide, 'netns', this.namespace],
      ['addr', 'add', `${this.managerAddress}/30`, 'dev', this.hostSide],
      ['link', 'set', this.hostSide, 'up'],
      [...inNs, 'addr', 'add', `${this.workerAddress}/30`, 'dev', this.nsSide],
      [...inNs, 'link', 'set', this.nsSide, 'up'],
      [...inNs, 'link', 'set', 'lo', 'up'],
    ];
    for (const step of steps) await run('ip', step);
  }

  /** Deletes the veth pair (both ends) and the namespace; what is not there is left alone. */
  async remove(): Promise<void> {
    await run('ip', ['link', 'del', this.hostSide]).catch(() => undefined);
    await run('ip', ['netns', 'del', this.namespace]).catch(() => undefined);
  }

  /** Execs its arguments in the namespace, with its own UTS namespace and hostname. */
  launcher(hostname: string): string[] {
    const nsenter = findOnPath('nsenter') ?? 'nsenter';
    const unshare = findOnPath('unshare') ?? 'unshare';
    return [
      nsenter,
      `--net=/var/run/netns/${this.namespace}`,
      unshare,
      '--uts',
      'sh',
      '-c',
      'hostname "$0" && exec "$@"',
      hostname,
    ];
  }
}

/** Starts the worker's dockerd in its namespace and joins it to the manager's swarm. */
async function startWorker(manager: PrivateDockerd): Promise<SwarmWorker | { skip: string }> {
  if (!findOnPath('ip') || !findOnPath('nsenter') || !findOnPath('unshare'))
    return { skip: 'a swarm worker needs ip, nsenter and unshare' };
  const network = new WorkerNetwork();
  await network.remove(); // a killed run of this PID could have left them
  try {
    await network.create();
  } catch (err) {
    await network.remove();
    return { skip: `no network namespace for a swarm worker: ${(err as Error).message}` };
  }
  const started = await startDockerd(network.launcher(WORKER_HOSTNAME));
  if ('skip' in started) {
    await network.remove();
    return started;
  }
  const worker: SwarmWorker = {
    dockerd: started,
    hostname: WORKER_HOSTNAME,
    address: network.workerAddress,
    destroy: async () => {
      await leaveSwarm(started).catch(() => undefined);
      await started.destroy();
      await network.remove();
    },
  };
  try {
    const port = await freePort(network.managerAddress);
    await manager.docker.swarmInit({
      ListenAddr: `${network.managerAddress}:${port}`,
      AdvertiseAddr: network.managerAddress,
    });
    const swarm = (await manager.docker.swarmInspect()) as { JoinTokens: { Worker: string } };
    await started.docker.swarmJoin({
      ListenAddr: `${network.workerAddress}:${port}`,
      AdvertiseAddr: network.workerAddress,
      RemoteAddrs: [`${network.managerAddress}:${port}`],
      JoinToken: swarm.JoinTokens.Worker,
    });
  } catch (err) {
    await worker.destroy();
    return { skip: `the swarm worker could not join: ${(err as Error).message}` };
  }
  return worker;
}

/**
 * A two-node swarm for a tap test: a private dockerd as manager and one in its own network
 * namespace as worker (hostname WORKER_HOSTNAME). Skipped, or failed under
 * `ENGINEGATE_REQUIRE_ENGINES=moby`, when it cannot be made; torn down at the test's end (the
 * worker leaves, both daemons stop by PID, the veth pair and the namespace are deleted).
 */
export async function twoNodeSwarmForTest(t: Test): Promise<TwoNodeSwarm | undefined> {
  const manager = await dockerdForTest(t);
  if (manager === undefined) return undefined;
  const worker = daemonForTest(t, 'moby', await startWorker(manager));
  return worker === undefined ? undefined : { manager, worker };
}
