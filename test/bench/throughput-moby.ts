// Throughput of the gateway on Docker against Docker itself, measured in the same run: a
// private dockerd holds a container's 300,000-line history; the baseline reads it straight from
// the Engine API (the same request the moby plugin makes), then the gateway delivers it in
// each framing. Prints one ratio per framing (1.00 = as fast as the engine hands logs out).
//
//   npm run bench -- throughput-moby     (starts and stops its own dockerd; needs root)
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createGateway } from '@enginegate/gateway';
import mobyPlugin from '@enginegate/plugin-moby';
import { runBusybox, startDockerd, waitForExitCode } from '@enginegate/test-harness/dockerd';
import { BENCH_TOKEN, best, printRows, readViaHttp, readViaWebSocket } from './gateway-readers.js';

const LINES = Number(process.env.BENCH_LINES ?? 300_000);

async function main() {
  const dockerd = await startDockerd();
  if ('skip' in dockerd) {
    console.log(`skipped: ${dockerd.skip}`);
    return;
  }
  try {
    const id = await runBusybox(
      dockerd,
      `yes 'a line of log output that is seventy-two bytes long, give or take...' | head -n ${LINES}`,
    );
    await waitForExitCode(dockerd, id);
    const gw = await createGateway({
      port: 0,
      token: BENCH_TOKEN,
      plugins: [mobyPlugin],
      engine: 'moby',
      pluginConfig: { moby: { dockerSocket: dockerd.socket } },
      logger: false,
    });
    const url = await gw.listen();
    try {
      const baseline = await best(() => readEngineApi(dockerd.socket, id));
      const rows: Array<[string, number]> = [];
      for (const protocol of [undefined, 'v1.binary.enginegate', 'v1.text.enginegate', 'v1.json.enginegate']) {
        rows.push([
          `ws ${protocol ?? 'raw (no subprotocol)'}`,
          await best(() => readViaWebSocket(url, id, protocol, LINES)),
        ]);
      }
      rows.push(['http text/plain', await best(() => readViaHttp(url, id, 'text/plain', LINES))]);
      console.log(`docker container history of ${LINES} lines (json-file driver), best of 3 runs`);
      printRows('Engine API read directly', baseline, rows, LINES);
    } finally {
      await gw.close();
    }
  } finally {
    await dockerd.destroy();
  }
}

/** What the moby plugin asks Docker for (timestamps on, both streams), body read to the end. */
function readEngineApi(socketPath: string, id: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path: `/containers/${id}/logs?stdout=1&stderr=1&timestamps=1&follow=0` },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () =>
          bytes > LINES ? resolve(performance.now() - start) : reject(new Error(`engine API gave ${bytes} bytes`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

await main();
