// Throughput of the gateway against its baseline, measured in the same run: how fast the mock
// engine's LogSource hands out a 300,000-line history when pulled directly, and how fast the
// gateway delivers the same history through each framing. Prints one ratio per framing.
//
//   node scripts/bench.mjs            (builds first; see docs/benchmarks.md)
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createGateway } from '@enginegate/gateway';
import type { MockEngine } from '@enginegate/plugin-mock';

const LINES = Number(process.env.BENCH_LINES ?? 300_000);
const LINE = Buffer.from('x'.repeat(72));
const TOKEN = 'bench';

async function main() {
  const gw = await createGateway({ port: 0, token: TOKEN, engine: 'mock', logger: false });
  const url = await gw.listen();
  const engine = gw.engines.snapshot().engine as MockEngine;
  engine.addContainer({
    name: 'bench-history',
    lineCount: LINES,
    intervalMs: 0,
    historyLines: LINES,
    lineAt: (i) => ({ stream: i % 2 ? 'stderr' : 'stdout', bytes: LINE }),
  });

  const baseline = await best(() => pullDirect(engine));
  const rows: Array<[string, number]> = [];
  rows.push(['ws raw (no subprotocol)', await best(() => viaWebSocket(url, undefined))]);
  rows.push(['ws v1.binary.enginegate', await best(() => viaWebSocket(url, 'v1.binary.enginegate'))]);
  rows.push(['ws v1.text.enginegate', await best(() => viaWebSocket(url, 'v1.text.enginegate'))]);
  rows.push(['ws v1.json.enginegate', await best(() => viaWebSocket(url, 'v1.json.enginegate'))]);
  rows.push(['http text/plain', await best(() => viaHttp(url, 'text/plain'))]);
  rows.push(['http application/x-ndjson', await best(() => viaHttp(url, 'application/x-ndjson'))]);
  await gw.close();

  const rate = (ms: number) => Math.round(LINES / (ms / 1000));
  console.log(`mock history of ${LINES} lines of ${LINE.length + 1} bytes, best of 3 runs`);
  console.log(`baseline: LogSource pulled directly  ${baseline.toFixed(0)} ms  ${rate(baseline)} lines/s`);
  for (const [name, ms] of rows) {
    console.log(
      `${name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms  ${String(rate(ms)).padStart(8)} lines/s  ratio to baseline ${(baseline / ms).toFixed(2)}`,
    );
  }
}

async function best(run: () => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < 3; i++) min = Math.min(min, await run());
  return min;
}

async function pullDirect(engine: MockEngine): Promise<number> {
  const start = performance.now();
  const it = await engine.logs.open({ ref: 'bench-history' }, { follow: false, stdout: true, stderr: true }, new AbortController().signal);
  let lines = 0;
  for await (const batch of it) lines += batch.length;
  if (lines !== LINES) throw new Error(`direct read gave ${lines} lines`);
  return performance.now() - start;
}

function viaWebSocket(base: string, protocol: string | undefined): Promise<number> {
  const start = performance.now();
  const ws = new WebSocket(`${base.replace('http', 'ws')}/passthrough/engine/logs/bench-history?follow=false`, protocol ? [protocol] : [], {
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

async function viaHttp(base: string, accept: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/passthrough/engine/logs/bench-history?follow=false`, {
    headers: { authorization: `Bearer ${TOKEN}`, accept },
  });
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  if (lines !== LINES) throw new Error(`http ${accept}: ${lines} lines`);
  return performance.now() - start;
}

await main();
