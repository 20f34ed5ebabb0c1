// The churn benchmark's client, in a process of its own: opens a follow of one container
// (`tail=1`, text framing), waits for its first line, closes it, and again — CYCLES times,
// CONCURRENCY at once — then prints one JSON line `{"ms": N, "cycles": N}`.
//
//   node churn-client-process.js GATEWAY_URL CONTAINER CYCLES CONCURRENCY
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { BENCH_TOKEN } from './gateway-readers.js';

const [url, container, cyclesText, concurrencyText] = process.argv.slice(2);
const cycles = Number(cyclesText);

function cycle(): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `${url!.replace('http', 'ws')}/passthrough/engine/logs/${container}?tail=1`,
      ['v1.text.enginegate'],
      { headers: { authorization: `Bearer ${BENCH_TOKEN}` } },
    );
    let gotLine = false;
    ws.once('message', () => {
      gotLine = true;
      ws.close(1000);
    });
    ws.on('close', (code) => (gotLine ? resolve() : reject(new Error(`closed ${code} before a line`))));
    ws.on('error', reject);
  });
}

let started = 0;
async function worker(): Promise<void> {
  while (started < cycles) {
    started++;
    await cycle();
  }
}

const start = performance.now();
await Promise.all(Array.from({ length: Number(concurrencyText) }, worker));
process.stdout.write(`${JSON.stringify({ ms: performance.now() - start, cycles })}\n`, () => process.exit(0));
