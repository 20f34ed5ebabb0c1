// One history read of the throughput benchmarks, by a client in a process of its own (as every
// real client is): it reads a container's whole history once, counts its lines, and prints one
// JSON line `{"ms": N}` — the milliseconds from the request to the last byte (process start-up
// not counted; the CLI rows of the benchmarks time whole processes instead).
//
//   node history-client-process.js engine-api SOCKET PATH_AND_QUERY MIN_BYTES
//   node history-client-process.js ws GATEWAY_URL CONTAINER LINES [PROTOCOL]
//   node history-client-process.js http GATEWAY_URL CONTAINER LINES ACCEPT
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { readViaHttp, readViaWebSocket } from './gateway-readers.js';

const [mode, target, what, count, extra] = process.argv.slice(2);

/** A request straight to an engine's API on its unix socket, the body read and discarded. */
function readEngineApi(socketPath: string, path: string, minBytes: number): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () =>
        bytes >= minBytes
          ? resolve(performance.now() - start)
          : reject(new Error(`the engine API gave ${bytes} bytes`)),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function read(): Promise<number> {
  if (target === undefined || what === undefined || count === undefined) throw new Error('missing arguments');
  switch (mode) {
    case 'engine-api':
      return readEngineApi(target, what, Number(count));
    case 'ws':
      return readViaWebSocket(target, what, extra, Number(count));
    case 'http':
      return readViaHttp(target, what, extra ?? 'text/plain', Number(count));
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

const ms = await read();
// Exit at once: a keep-alive connection of fetch must not hold the process open.
process.stdout.write(`${JSON.stringify({ ms })}\n`, () => process.exit(0));
