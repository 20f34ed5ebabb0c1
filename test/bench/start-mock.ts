// Start-up and engine switches: `enginegate serve --engine mock` as a process of its own, timed
// from spawn until `/readyz` answers 200 (polled every 5 ms); then, on the running gateway,
// `PUT /engine` from mock to the example process-logs plugin and back, each timed from the
// request until `/readyz` names the new engine. Goals: start < 500 ms, a switch < 1 s.
//
//   npm run bench -- start-mock
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { recordResult } from './bench-results.js';
import { ENGINEGATE_BIN, machineLine } from './client-processes.js';

const TOKEN = 'bench';
const RUNS = Number(process.env.BENCH_ROUNDS ?? 3) + 2;
const EXAMPLE_PLUGIN = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'examples',
  'process-logs-plugin',
  'dist',
  'index.js',
);

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** Polls GET /readyz until it answers 200 naming `engine`; resolves with the ms since `start`. */
async function readyAfter(url: string, engine: string, start: number, deadlineMs = 30_000): Promise<number> {
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await res.json()) as { engine?: { name?: string } };
      if (res.status === 200 && body.engine?.name === engine) return performance.now() - start;
    } catch {
      // not listening yet
    }
    if (performance.now() - start > deadlineMs) throw new Error(`${url} not ready with ${engine}`);
    await sleep(5);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function serve(port: number): ChildProcess {
  return spawn(
    process.execPath,
    [ENGINEGATE_BIN, 'serve', '--engine', 'mock', '--listen', `127.0.0.1:${port}`, '--token', TOKEN],
    { stdio: 'ignore' },
  );
}

async function switchTo(url: string, engine: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${url}/engine`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: engine }),
  });
  if (res.status !== 200) throw new Error(`PUT /engine ${engine}: ${res.status} ${await res.text()}`);
  return readyAfter(url, engine, start);
}

async function main() {
  const machine = [machineLine()];
  const starts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const start = performance.now();
    const child = serve(port);
    try {
      starts.push(await readyAfter(`http://127.0.0.1:${port}`, 'mock', start));
    } finally {
      await stop(child);
    }
  }
  const switches: number[] = [];
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ENGINEGATE_BIN,
      'serve',
      '--engine',
      'mock',
      '--listen',
      `127.0.0.1:${port}`,
      '--token',
      TOKEN,
      '--plugin',
      EXAMPLE_PLUGIN,
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await readyAfter(url, 'mock', performance.now());
    for (let i = 0; i < RUNS; i++) {
      switches.push(await switchTo(url, 'process-logs'));
      switches.push(await switchTo(url, 'mock'));
    }
  } finally {
    await stop(child);
  }
  machine.push(machineLine());
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const notes = [
    `serve --engine mock to /readyz 200, ${RUNS} starts (ms): ${starts.map((ms) => ms.toFixed(0)).join(', ')}; best ${Math.min(...starts).toFixed(0)}, median ${median(starts).toFixed(0)} (goal < 500)`,
    `engine switch (PUT /engine to /readyz naming it), mock <-> process-logs, ${switches.length} switches (ms): ${switches.map((ms) => ms.toFixed(0)).join(', ')}; best ${Math.min(...switches).toFixed(0)}, median ${median(switches).toFixed(0)} (goal < 1000)`,
  ];
  recordResult('start-mock', {
    title: 'start-up and engine switches, `enginegate serve` in a process of its own',
    lines: 0,
    machine,
    rows: [
      ['serve start to /readyz (median)', median(starts)],
      ['engine switch (median)', median(switches)],
    ],
    baselines: [],
    notes,
  });
}

await main();
