// Churn: 10,000 follows of one running container opened and closed by a client in a process of
// its own (churn-client-process: tail=1, first line, close; 4 at once), against a private
// dockerd. Measured after a warm-up of 2,000 cycles and again after the 10,000 (once the engine
// streams are released): the gateway's open file descriptors, its RSS after a GC, and the
// dockerd's open file descriptors (its connections); the heap in use after the GC too, which
// tells a leak from V8 keeping pages it grew into. Goal: all where they started, RSS ±5%.
//
// The warm-up is 2,000 cycles because RSS is still settling before that (V8's heap pages, the
// allocator's arenas and socket buffers), and flat after it: on 2026-12-06, after 1,000 cycles
// 118.0 MiB, 2,000 119.6, 5,000 119.8, 10,000 120.8, 20,000 120.2, 30,000 120.7. The RSS after
// the first 200 is printed too, so the settling shows.
//
//   npm run bench -- churn-moby     (starts and stops its own dockerd; needs root)
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runBusybox, startDockerd } from '@enginegate/test-harness/dockerd';
import { recordResult } from './bench-results.js';
import { machineLine, runInChild } from './client-processes.js';
import { mobyBenchGateway } from './gateway-readers.js';

const CYCLES = Number(process.env.BENCH_CHURN_CYCLES ?? 10_000);
const FIRST = 200;
const WARM_UP = 2_000;
const CONCURRENCY = 4;

interface Resources {
  gatewayFds: number;
  rssMiB: number;
  heapMiB: number;
  /** Memory outside the JavaScript heap that V8 knows of (Buffers' backing stores). */
  externalMiB: number;
  dockerdFds: number;
}

function openFds(pid: number | 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Measured once open streams had time to be released: a GC, then the counts. */
async function resources(dockerdPid: number, streamsOpen: () => number): Promise<Resources> {
  for (let i = 0; i < 100 && streamsOpen() > 0; i++) await sleep(50);
  await sleep(500);
  (globalThis as { gc?: () => void }).gc?.();
  return {
    gatewayFds: openFds('self'),
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
    externalMiB: process.memoryUsage().external / 2 ** 20,
    dockerdFds: openFds(dockerdPid),
  };
}

async function churn(url: string, id: string, cycles: number): Promise<number> {
  const { ms } = await runInChild<{ ms: number }>('churn-client-process.js', [
    url,
    id,
    String(cycles),
    String(CONCURRENCY),
  ]);
  return ms;
}

async function main() {
  const dockerd = await startDockerd();
  if ('skip' in dockerd) {
    console.log(`skipped: ${dockerd.skip}`);
    return;
  }
  try {
    const id = await runBusybox(dockerd, 'while true; do echo tick; sleep 0.2; done');
    const { gw, url } = await mobyBenchGateway(dockerd.socket);
    const dockerdPid = dockerd.pid!;
    const streamsOpen = () => gw.openStreams;
    try {
      const machine = [machineLine()];
      await churn(url, id, FIRST);
      const first = await resources(dockerdPid, streamsOpen);
      await churn(url, id, WARM_UP - FIRST);
      const before = await resources(dockerdPid, streamsOpen);
      const ms = await churn(url, id, CYCLES);
      const after = await resources(dockerdPid, streamsOpen);
      machine.push(machineLine());
      const rssChange = (after.rssMiB / before.rssMiB - 1) * 100;
      const notes = [
        `${CYCLES} open/close cycles (${CONCURRENCY} at once) in ${(ms / 1000).toFixed(1)} s, after ${WARM_UP} to warm up`,
        `gateway file descriptors: ${before.gatewayFds} -> ${after.gatewayFds}`,
        `gateway RSS after GC: ${before.rssMiB.toFixed(1)} MiB -> ${after.rssMiB.toFixed(1)} MiB (${rssChange >= 0 ? '+' : ''}${rssChange.toFixed(1)}%, goal ±5%)`,
        `gateway heap used after GC: ${before.heapMiB.toFixed(1)} MiB -> ${after.heapMiB.toFixed(1)} MiB; external ${before.externalMiB.toFixed(1)} -> ${after.externalMiB.toFixed(1)} MiB`,
        `(gateway RSS after the first ${FIRST} cycles: ${first.rssMiB.toFixed(1)} MiB, still settling)`,
        `dockerd file descriptors (its connections included): ${before.dockerdFds} -> ${after.dockerdFds}`,
      ];
      recordResult('churn-moby', {
        title: `churn: ${CYCLES} follows opened and closed on a private dockerd, client in its own process`,
        lines: 0,
        machine,
        rows: [['one open/close cycle (mean, 4 at once)', ms / CYCLES]],
        baselines: [],
        notes,
      });
    } finally {
      await gw.close();
    }
  } finally {
    await dockerd.destroy();
  }
}

await main();
