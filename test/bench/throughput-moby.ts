// Throughput of the gateway on Docker against Docker itself, measured in the same run, with
// every client in a process of its own (as real clients are): a private dockerd holds a
// container's 300,000-line history (json-file driver). The baselines: the Engine API read
// directly without timestamps (how fast Docker hands the logs out), with timestamps (what the
// moby plugin asks for), and `docker logs` (the CLI, to /dev/null). Then the gateway delivers
// the history in each framing, over plain HTTP, and to `enginegate logs` (the CLI, to
// /dev/null). Prints each row's ratio to the API without timestamps and to `docker logs`.
//
//   npm run bench -- throughput-moby     (starts and stops its own dockerd; needs root)
import { runBusybox, startDockerd, waitForExitCode } from '@enginegate/test-harness/dockerd';
import { ENGINEGATE_BIN, bestOfRounds, machineLine, readInChild, timeCommand } from './client-processes.js';
import { BENCH_TOKEN, mobyBenchGateway } from './gateway-readers.js';
import { recordResult } from './bench-results.js';

const LINES = Number(process.env.BENCH_LINES ?? 300_000);
const LINE_TEXT = 'a line of log output that is seventy-two bytes long, give or take...';

async function main() {
  const dockerd = await startDockerd();
  if ('skip' in dockerd) {
    console.log(`skipped: ${dockerd.skip}`);
    return;
  }
  try {
    const id = await runBusybox(dockerd, `yes '${LINE_TEXT}' | head -n ${LINES}`);
    await waitForExitCode(dockerd, id);
    const { gw, url } = await mobyBenchGateway(dockerd.socket);
    try {
      const api = (timestamps: 0 | 1) => () =>
        readInChild([
          'engine-api',
          dockerd.socket,
          `/containers/${id}/logs?stdout=1&stderr=1&timestamps=${timestamps}&follow=0`,
          String(LINES * (LINE_TEXT.length + 1)),
        ]);
      const ws = (protocol?: string) => () =>
        readInChild(['ws', url, id, String(LINES), ...(protocol ? [protocol] : [])]);
      const loadBefore = machineLine();
      const { rows, cpuMs } = await bestOfRounds([
        ['Engine API, no timestamps', api(0)],
        ['Engine API, timestamps=1', api(1)],
        ['docker logs (CLI) > /dev/null', () => timeCommand('docker', ['-H', dockerd.host, 'logs', id])],
        ['gateway ws raw (no subprotocol)', ws()],
        ['gateway ws v1.binary.enginegate', ws('v1.binary.enginegate')],
        ['gateway ws v1.text.enginegate', ws('v1.text.enginegate')],
        ['gateway ws v1.json.enginegate', ws('v1.json.enginegate')],
        ['gateway http text/plain', () => readInChild(['http', url, id, String(LINES), 'text/plain'])],
        [
          'enginegate logs (CLI) > /dev/null',
          () => timeCommand(process.execPath, [ENGINEGATE_BIN, 'logs', '--url', url, '--token', BENCH_TOKEN, id]),
        ],
      ]);
      const title = `docker container history of ${LINES} lines (json-file driver), clients in their own processes`;
      recordResult('throughput-moby', {
        title,
        lines: LINES,
        machine: [loadBefore, machineLine()],
        rows,
        cpuMs,
        baselines: ['Engine API, no timestamps', 'docker logs (CLI) > /dev/null'],
        references: ['Engine API, no timestamps', 'Engine API, timestamps=1', 'docker logs (CLI) > /dev/null'],
      });
    } finally {
      await gw.close();
    }
  } finally {
    await dockerd.destroy();
  }
}

await main();
