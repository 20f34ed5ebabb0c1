// Fan-out: 500 WebSocket followers (in a process of their own) of one live container on a
// private dockerd. Measured twice in the same run: with the live tail shared, then with every
// follower on an engine stream of its own (`shareLiveTails: false`, the baseline). Prints the
// engine log streams open at the peak, the gateway's peak RSS, and whether every follower got
// every line once.
//
//   npm run bench -- fanout-moby     (starts and stops its own dockerd; needs root)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MobyEngine } from '@enginegate/plugin-moby';
import { runBusybox, startDockerd, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { mobyBenchGateway } from './gateway-readers.js';

const FOLLOWERS = Number(process.env.BENCH_FOLLOWERS ?? 500);
const LIVE_SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 10);

interface Summary {
  followers: number;
  broken: number;
  firstBroken?: string;
  minLines: number;
  maxLines: number;
  newestLine: number;
  oldestLastLine: number;
}

async function measure(dockerd: PrivateDockerd, id: string, share: boolean) {
  // Every follower comes from one client process, so the per-client caps are raised too.
  const { gw, url } = await mobyBenchGateway(dockerd.socket, {
    shareLiveTails: share,
    maxStreams: FOLLOWERS + 10,
    maxStreamsPerClient: FOLLOWERS + 10,
    maxConnectionsPerClient: FOLLOWERS + 10,
  });
  const engine = gw.engines.engineNamed('moby') as MobyEngine;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  // Engine streams at the peak while the followers connect (each reads its own history then),
  // and once they all follow the live end.
  const streams = { connecting: 0, live: 0 };
  let phase: keyof typeof streams = 'connecting';
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    streams[phase] = Math.max(streams[phase], engine.openStreamCount);
  }, 50);
  const clients = spawn(
    process.execPath,
    [join(dirname(fileURLToPath(import.meta.url)), 'followers-process.js'), url, id, String(FOLLOWERS)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: clients.stdout });
  const messages: Array<{ type: string } & Partial<Summary>> = [];
  lines.on('line', (line) => messages.push(JSON.parse(line) as { type: string }));
  const started = Date.now();
  while (!messages.some((m) => m.type === 'opened')) {
    if (Date.now() - started > 60_000) throw new Error('the followers did not all connect within 60 s');
    await sleep(50);
  }
  const connectMs = Date.now() - started;
  await sleep(1000); // the last history reads end
  phase = 'live';
  await sleep(LIVE_SECONDS * 1000);
  clients.stdin.write('stop\n');
  await once(clients, 'exit');
  clearInterval(sampler);
  await gw.close();
  const summary = messages.find((m) => m.type === 'summary') as Summary;
  return {
    summary,
    streams,
    rssPeakMb: rssPeak / 2 ** 20,
    rssGrowthMb: (rssPeak - rssBefore) / 2 ** 20,
    connectMs,
  };
}

async function main() {
  const dockerd = await startDockerd();
  if ('skip' in dockerd) {
    console.log(`skipped: ${dockerd.skip}`);
    return;
  }
  try {
    // 1,000 lines of history, then a line every 20 ms (50 lines/s), numbered.
    const id = await runBusybox(
      dockerd,
      'i=0; while true; do echo "line $i"; i=$((i+1)); [ $i -gt 1000 ] && usleep 20000; done',
    );
    await sleep(2000);
    console.log(`${FOLLOWERS} followers of one container (tail=10, text framing), ${LIVE_SECONDS} s live`);
    // The goal's configuration (shared) first, from the process's own starting memory: a phase
    // after another starts from the RSS the first left (glibc keeps freed memory), which the
    // peak would then count.
    for (const share of [true, false]) {
      const r = await measure(dockerd, id, share);
      const s = r.summary;
      const every =
        s.broken === 0 ? 'every follower got every line once' : `${s.broken} followers broken: ${s.firstBroken}`;
      console.log(
        `${share ? 'shared live tail ' : 'own engine streams'}  engine streams: ${String(r.streams.connecting).padStart(3)} connecting, ${String(r.streams.live).padStart(3)} live` +
          `  gateway RSS peak ${r.rssPeakMb.toFixed(0).padStart(4)} MB (+${r.rssGrowthMb.toFixed(0)} MB)` +
          `  lines per follower ${s.minLines}–${s.maxLines}  connected in ${r.connectMs} ms  ${every}`,
      );
    }
  } finally {
    await dockerd.destroy();
  }
}

await main();
