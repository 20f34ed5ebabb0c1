// Throughput of the gateway on Podman against Podman itself, measured in the same run: a
// private `podman system service` holds a container's 300,000-line history; the baselines read
// it straight from the libpod API (the request the podman plugin makes) and with `podman logs`;
// then the gateway delivers it in each framing, through the podman plugin — and, for the
// comparison in plugins/podman/README.md, through the moby plugin on Podman's Docker-compatible
// API. Prints one ratio per row (1.00 = as fast as the libpod API hands logs out).
//
//   npm run bench -- throughput-podman     (starts and stops its own podman service; needs root)
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createGateway } from '@enginegate/gateway';
import mobyPlugin from '@enginegate/plugin-moby';
import podmanPlugin from '@enginegate/plugin-podman';
import { runBusybox, startPodman, waitForExitCode, type PrivatePodman } from '@enginegate/test-harness/podman';
import { BENCH_TOKEN, best, printRows, readViaHttp, readViaWebSocket } from './gateway-readers.js';

const LINES = Number(process.env.BENCH_LINES ?? 300_000);
const run = promisify(execFile);

async function main() {
  const podman = await startPodman();
  if ('skip' in podman) {
    console.log(`skipped: ${podman.skip}`);
    return;
  }
  try {
    const id = await runBusybox(
      podman,
      `yes 'a line of log output that is seventy-two bytes long, give or take...' | head -n ${LINES}`,
    );
    await waitForExitCode(podman, id);
    const baseline = await best(() => readLibpodApi(podman.socket, id));
    const cli = await best(() => podmanLogs(podman, id));
    const rows: Array<[string, number]> = [['podman logs (the CLI, to /dev/null)', cli]];
    for (const [engine, plugin, config] of [
      ['podman', podmanPlugin, { podmanSocket: podman.socket }],
      ['moby', mobyPlugin, { dockerSocket: podman.socket }],
    ] as const) {
      const gw = await createGateway({
        port: 0,
        token: BENCH_TOKEN,
        plugins: [plugin],
        engine,
        pluginConfig: { [engine]: config },
        logger: false,
      });
      const url = await gw.listen();
      try {
        const protocols =
          engine === 'podman'
            ? [undefined, 'v1.binary.enginegate', 'v1.text.enginegate', 'v1.json.enginegate']
            : [undefined];
        for (const protocol of protocols) {
          rows.push([
            `${engine}: ws ${protocol ?? 'raw (no subprotocol)'}`,
            await best(() => readViaWebSocket(url, id, protocol, LINES)),
          ]);
        }
        if (engine === 'podman')
          rows.push([`${engine}: http text/plain`, await best(() => readViaHttp(url, id, 'text/plain', LINES))]);
      } finally {
        await gw.close();
      }
    }
    console.log(`podman container history of ${LINES} lines (k8s-file driver), best of 3 runs`);
    printRows('libpod API read directly', baseline, rows, LINES);
  } finally {
    await podman.destroy();
  }
}

/** What the podman plugin asks Podman for (timestamps on, both streams), body read to the end. */
function readLibpodApi(socketPath: string, id: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path: `/v4.0.0/libpod/containers/${id}/logs?stdout=true&stderr=true&timestamps=true&follow=false` },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () =>
          bytes > LINES ? resolve(performance.now() - start) : reject(new Error(`libpod API gave ${bytes} bytes`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function podmanLogs(podman: PrivatePodman, id: string): Promise<number> {
  const start = performance.now();
  await run('sh', ['-c', `podman ${podman.globalArgs.join(' ')} logs ${id} > /dev/null`], { env: podman.env });
  return performance.now() - start;
}

await main();
