// A case the gateway suites of the Docker-style engines share: many WebSocket open/close cycles
// through the gateway leave no connection to the daemon behind.
import type { Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogsClient } from '@enginegate/testkit';
import { connectionsTo } from './log-records.js';

const CYCLES = 1000;
/** The engine client's keep-alive pool may keep up to this many idle connections (its maxFreeSockets). */
const IDLE_POOL = 4;
const PARALLEL = 10;

export interface CyclesTarget {
  /** The daemon, in the case's name and messages: `Docker`, `Podman`. */
  daemon: string;
  socket: string;
  client: LogsClient;
  /** Open streams of the gateway and of the engine. */
  openStreams(): { gateway: number; engine: number };
  /** Starts a container that writes a line every 100 ms, removed when the case ends. */
  run(script: string): Promise<string>;
  remove(id: string): Promise<void>;
}

export function connectionCyclesCase(t: Test, target: CyclesTarget): void {
  t.test(`1,000 open/close cycles leave no connection to the ${target.daemon} socket behind`, async (t) => {
    const { client, socket } = target;
    const id = await target.run('while true; do echo spin; sleep 0.1; done');
    t.teardown(() => target.remove(id));
    // Warm up, then let idle keep-alive sockets of earlier tests settle.
    const warm = await client.openSocket(id, {}, 'raw');
    await warm.waitFor((m) => m.length >= 1, 'a line');
    warm.close();
    await warm.waitClosed();
    await sleep(200);
    const before = await connectionsTo(socket);
    const started = performance.now();
    let failures = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let i = 0; i < CYCLES / PARALLEL; i++) {
          const s = await client.openSocket(id, { tail: 1 }, 'raw');
          await s.waitFor((m) => m.length >= 1, 'a line').catch(() => failures++);
          s.close();
          await s.waitClosed();
        }
      }),
    );
    const elapsed = performance.now() - started;
    t.equal(failures, 0, 'every cycle got its line');
    let after = await connectionsTo(socket);
    for (let i = 0; i < 100 && after > before; i++) {
      await sleep(50);
      after = await connectionsTo(socket);
    }
    // A leak would grow with the cycles; the idle pool does not.
    t.ok(
      after <= Math.max(before, IDLE_POOL),
      `connections to the ${target.daemon} socket: ${before} before, ${after} after (idle pool ≤ ${IDLE_POOL})`,
    );
    t.same(target.openStreams(), { gateway: 0, engine: 0 }, 'neither the gateway nor the engine holds a stream');
    t.comment(
      `${CYCLES} cycles in ${elapsed.toFixed(0)} ms (${(elapsed / CYCLES).toFixed(2)} ms each, ${PARALLEL} at a time)`,
    );
  });
}
