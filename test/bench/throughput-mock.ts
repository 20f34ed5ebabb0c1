// Throughput of the gateway against its baseline, measured in the same run: how fast the mock
// engine's LogSource hands out a 300,000-line history when pulled directly, and how fast the
// gateway delivers the same history through each framing. Prints one ratio per framing.
//
//   npm run bench -- throughput-mock     (builds first; see docs/benchmarks.md)
import { performance } from 'node:perf_hooks';
import { createGateway } from '@enginegate/gateway';
import mockPlugin, { type MockEngine } from '@enginegate/plugin-mock';
import { BENCH_TOKEN, best, printRows, readViaHttp, readViaWebSocket } from './gateway-readers.js';

const LINES = Number(process.env.BENCH_LINES ?? 300_000);
const LINE = Buffer.from('x'.repeat(72));
const CONTAINER = 'bench-history';

async function main() {
  const gw = await createGateway({
    port: 0,
    token: BENCH_TOKEN,
    engine: 'mock',
    builtinPlugins: [mockPlugin],
    logger: false,
  });
  const url = await gw.listen();
  const engine = gw.engines.snapshot().engine as MockEngine;
  engine.addContainer({
    name: CONTAINER,
    lineCount: LINES,
    intervalMs: 0,
    historyLines: LINES,
    lineAt: (i: number) => ({ stream: i % 2 ? 'stderr' : 'stdout', bytes: LINE }),
  });

  const baseline = await best(() => pullDirect(engine));
  const rows: Array<[string, number]> = [];
  for (const protocol of [undefined, 'v1.binary.enginegate', 'v1.text.enginegate', 'v1.json.enginegate']) {
    rows.push([
      `ws ${protocol ?? 'raw (no subprotocol)'}`,
      await best(() => readViaWebSocket(url, CONTAINER, protocol, LINES)),
    ]);
  }
  for (const accept of ['text/plain', 'application/x-ndjson']) {
    rows.push([`http ${accept}`, await best(() => readViaHttp(url, CONTAINER, accept, LINES))]);
  }
  await gw.close();

  console.log(`mock history of ${LINES} lines of ${LINE.length + 1} bytes, best of 3 runs`);
  printRows('LogSource pulled directly', baseline, rows, LINES);
}

async function pullDirect(engine: MockEngine): Promise<number> {
  const start = performance.now();
  const it = await engine.logs.open(
    { ref: CONTAINER },
    { follow: false, stdout: true, stderr: true },
    new AbortController().signal,
  );
  let lines = 0;
  for await (const batch of it) lines += batch.length;
  if (lines !== LINES) throw new Error(`direct read gave ${lines} lines`);
  return performance.now() - start;
}

await main();
