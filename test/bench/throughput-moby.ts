// Throughput of the gateway on Docker against Docker itself, measured in the same run: a
// private dockerd holds a container's 300,000-line history; the baseline reads it straight from
// the Engine API (the same request the moby plugin makes), then the gateway delivers it in
// each framing. Prints one ratio per framing (1.00 = as fast as the engine hands logs out).
//
//   npm run bench -- throughput-moby     (root; starts and stops its own dockerd)
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createGateway } from '@enginegate/gateway';
import mobyPlugin from '@enginegate/plugin-moby';
import { runBusybox, startDockerd, waitForExitCode } from '../harness/dockerd.js';

const LINES = Number(process.env.BENCH_LINES ?? 300_000);
const TOKEN = 'bench';

async function main() {
  const dockerd = await startDockerd();
  if ('skip' in dockerd) {
    console.log(`skipped: ${dockerd.skip}`);
    return;
  }
  try {
    const id = await runBusybox(dockerd, `yes 'a line of log output that is seventy-two bytes long, give or take...' | head -n ${LINES}`);
    await waitForExitCode(dockerd, id);
    const gw = await createGateway({
      port: 0,
      token: TOKEN,
      plugins: [mobyPlugin],
      engine: 'moby',
      pluginConfig: { moby: { dockerSocket: dockerd.socket } },
      logger: false,
    });
    const url = await gw.listen();
    try {
      const baseline = await best(() => engineApi(dockerd.socket, id));
      const rows: Array<[string, number]> = [
        ['ws raw (no subprotocol)', await best(() => viaWebSocket(url, id, undefined))],
        ['ws v1.binary.enginegate', await best(() => viaWebSocket(url, id, 'v1.binary.enginegate'))],
        ['ws v1.text.enginegate', await best(() => viaWebSocket(url, id, 'v1.text.enginegate'))],
        ['ws v1.json.enginegate', await best(() => viaWebSocket(url, id, 'v1.json.enginegate'))],
        ['http text/plain', await best(() => viaHttp(url, id))],
      ];
      const rate = (ms: number) => Math.round(LINES / (ms / 1000));
      console.log(`docker container history of ${LINES} lines (json-file driver), best of 3 runs`);
      console.log(`baseline: Engine API read directly   ${baseline.toFixed(0)} ms  ${rate(baseline)} lines/s`);
      for (const [name, ms] of rows) {
        console.log(
          `${name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms  ${String(rate(ms)).padStart(8)} lines/s  ratio to baseline ${(baseline / ms).toFixed(2)}`,
        );
      }
    } finally {
      await gw.close();
    }
  } finally {
    await dockerd.destroy();
  }
}

async function best(run: () => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < 3; i++) min = Math.min(min, await run());
  return min;
}

/** What the moby plugin asks Docker for (timestamps on, both streams), body read to the end. */
function engineApi(socketPath: string, id: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `/containers/${id}/logs?stdout=1&stderr=1&timestamps=1&follow=0` }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => (bytes > LINES ? resolve(performance.now() - start) : reject(new Error(`engine API gave ${bytes} bytes`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function viaWebSocket(base: string, id: string, protocol: string | undefined): Promise<number> {
  const start = performance.now();
  const ws = new WebSocket(`${base.replace('http', 'ws')}/passthrough/engine/logs/${id}?follow=false`, protocol ? [protocol] : [], {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  let lines = 0;
  ws.on('message', (data: Buffer, isBinary) => {
    if (protocol === undefined) {
      for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lines++;
    } else if (!isBinary || data[0] !== 3) {
      lines++;
    }
  });
  return new Promise((resolve, reject) => {
    ws.on('close', (code) => {
      if (code !== 1000 || lines !== LINES) reject(new Error(`${protocol ?? 'raw'}: close ${code} after ${lines} lines`));
      else resolve(performance.now() - start);
    });
    ws.on('error', reject);
  });
}

async function viaHttp(base: string, id: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/passthrough/engine/logs/${id}?follow=false`, { headers: { authorization: `Bearer ${TOKEN}` } });
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  if (lines !== LINES) throw new Error(`http: ${lines} lines`);
  return performance.now() - start;
}

await main();
