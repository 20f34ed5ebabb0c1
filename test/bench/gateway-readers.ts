// How the benchmarks read a container's whole history through the gateway, counting lines;
// each resolves with the milliseconds it took, and rejects when a line is missing.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createGateway, type Gateway, type GatewayOptions } from '@enginegate/gateway';
import mobyPlugin from '@enginegate/plugin-moby';

export const BENCH_TOKEN = 'bench';

/** A listening gateway on the moby engine of the Docker daemon at `dockerSocket`, quiet. */
export async function mobyBenchGateway(
  dockerSocket: string,
  options: GatewayOptions = {},
): Promise<{ gw: Gateway; url: string }> {
  const gw = await createGateway({
    port: 0,
    token: BENCH_TOKEN,
    plugins: [mobyPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket } },
    logger: false,
    ...options,
  });
  return { gw, url: await gw.listen() };
}

export function readViaWebSocket(
  base: string,
  container: string,
  protocol: string | undefined,
  expectedLines: number,
): Promise<number> {
  const start = performance.now();
  const ws = new WebSocket(
    `${base.replace('http', 'ws')}/passthrough/engine/logs/${container}?follow=false`,
    protocol ? [protocol] : [],
    {
      headers: { authorization: `Bearer ${BENCH_TOKEN}` },
    },
  );
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
      if (code !== 1000 || lines !== expectedLines)
        reject(new Error(`${protocol ?? 'raw'}: close ${code} after ${lines} lines`));
      else resolve(performance.now() - start);
    });
    ws.on('error', reject);
  });
}

export async function readViaHttp(
  base: string,
  container: string,
  accept: string,
  expectedLines: number,
): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/passthrough/engine/logs/${container}?follow=false`, {
    headers: { authorization: `Bearer ${BENCH_TOKEN}`, accept },
  });
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  if (lines !== expectedLines) throw new Error(`http ${accept}: ${lines} lines`);
  return performance.now() - start;
}

/** The fastest of three runs. */
export async function best(run: () => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < 3; i++) min = Math.min(min, await run());
  return min;
}

export function printRows(
  baselineName: string,
  baselineMs: number,
  rows: Array<[string, number]>,
  lines: number,
): void {
  const rate = (ms: number) => Math.round(lines / (ms / 1000));
  console.log(
    `baseline: ${baselineName.padEnd(28)} ${baselineMs.toFixed(0).padStart(6)} ms  ${String(rate(baselineMs)).padStart(8)} lines/s`,
  );
  for (const [name, ms] of rows) {
    console.log(
      `${name.padEnd(38)} ${ms.toFixed(0).padStart(6)} ms  ${String(rate(ms)).padStart(8)} lines/s  ratio to baseline ${(baselineMs / ms).toFixed(2)}`,
    );
  }
}
