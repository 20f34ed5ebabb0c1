// The gateway a fuzz suite runs against (mock engine, every log line captured at debug), the
// loop that sends fast-check's generated requests to it, and the checks after the run.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { Test } from 'tap';
import { createGateway, type Gateway, type GatewayOptions } from '@enginegate/gateway';
import mockPlugin from '@enginegate/plugin-mock';
import { LogsClient } from '@enginegate/test-client';
import { echoedInput, jsonStrings } from './answer-checks.js';

export const FUZZ_TOKEN = 'fuzz-token';
/** Short, so that a request that lies about its length is answered (408) within the run. */
const FUZZ_TIMEOUT_MS = 250;
// node looks for late requests once a second (server-limits.ts): a 408 comes within 1.5 s.
export const REQUEST_TIMEOUT_MS = 3000;

/** FUZZ_SCALE multiplies every suite's run count: 1 in CI (about a minute), more under `npm run fuzz`. */
export const FUZZ_SCALE = Math.max(0.01, Number(process.env.FUZZ_SCALE ?? 1) || 1);

export interface FuzzGateway {
  gw: Gateway;
  url: string;
  port: number;
  /** Undefined with --no-auth. */
  token: string | undefined;
  client: LogsClient;
  /** Names and full IDs of the mock engine's containers. */
  containers: Array<{ id: string; names: string[] }>;
  /** Paths discovery lists (plugin endpoints among them). */
  endpoints: string[];
  /** Log lines written since the last `takeLogLines`. */
  takeLogLines(): string[];
  requests: number;
  /** The previous batch's inputs: its log lines may come during the next batch. */
  previousInputs: string[];
}

export async function startFuzzGateway(t: Test, options: GatewayOptions = {}): Promise<FuzzGateway> {
  let lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const gw = await createGateway({
    port: 0,
    token: FUZZ_TOKEN,
    engine: 'mock',
    builtinPlugins: [mockPlugin],
    logger: { level: 'debug', stream },
    headersTimeoutMs: FUZZ_TIMEOUT_MS,
    bodyTimeoutMs: FUZZ_TIMEOUT_MS,
    ...options,
  });
  t.teardown(() => gw.close());
  const url = await gw.listen();
  const token = options.noAuth ? undefined : (options.token ?? FUZZ_TOKEN);
  const client = new LogsClient(url, token);
  const containers = (await client.get('/passthrough/engine/containers')).json as FuzzGateway['containers'];
  const discovery = (await client.get('/passthrough')).json as { endpoints: Array<{ path: string }> };
  return {
    gw,
    url,
    port: Number(new URL(url).port),
    token,
    client,
    containers,
    endpoints: discovery.endpoints.map((endpoint) => endpoint.path),
    takeLogLines: () => {
      const taken = lines;
      lines = [];
      return taken;
    },
    requests: 0,
    previousInputs: [],
  };
}

/** Log lines at error level, or repeating more than 64 characters of `inputs`. */
export function logProblems(lines: readonly string[], inputs: readonly string[]): string[] {
  const problems: string[] = [];
  for (const line of lines) {
    let record: any;
    try {
      record = JSON.parse(line);
    } catch {
      problems.push(`a log line is not JSON: ${line.slice(0, 200)}`);
      continue;
    }
    if (record.level >= 50) problems.push(`logged at error: ${line.slice(0, 300)}`);
    const echoed = jsonStrings(record)
      .map((text) => echoedInput(text, inputs))
      .find(Boolean);
    if (echoed) problems.push(`a log line repeats more than 64 characters of ${echoed}: ${line.slice(0, 200)}`);
  }
  return problems;
}

/**
 * Runs `check` on `runs` × FUZZ_SCALE generated values; the first failure fails `t` with
 * fast-check's report: the seed and path to replay it (FUZZ_SEED, FUZZ_PATH) and the shrunk
 * counterexample. Prints the number of requests made and the time taken.
 */
export async function fuzz<T>(
  t: Test,
  fx: FuzzGateway,
  what: string,
  arbitrary: fc.Arbitrary<T>,
  runs: number,
  check: (value: T) => Promise<void>,
  /** false: report the first failing value as it is (each try of a shrink costs seconds). */
  shrink = true,
): Promise<void> {
  const seed =
    process.env.FUZZ_SEED === undefined
      ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
      : Number(process.env.FUZZ_SEED);
  const path = process.env.FUZZ_PATH;
  const numRuns = Math.max(1, Math.round(runs * FUZZ_SCALE));
  const before = fx.requests;
  const started = performance.now();
  t.comment(`${what}: ${numRuns} runs, seed ${seed} (replay: FUZZ_SEED=${seed})`);
  const details = await fc.check(fc.asyncProperty(arbitrary, check), {
    seed,
    numRuns,
    endOnFailure: !shrink,
    ...(path ? { path } : {}),
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  t.comment(`${what}: ${fx.requests - before} requests in ${seconds} s`);
  if (details.failed) {
    const report = (fc.defaultReportMessage(details) ?? 'failed').slice(0, 3000);
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath}`;
    t.fail(`${what}: ${error.slice(0, 3000)}\n${report}\nreplay: ${replay}`);
  } else t.ok(true, `${what}: ${numRuns} runs, every answer as documented`);
}

/** After a run: a normal client still follows mock-chatty and gets lines, and no stream stays open. */
export async function assertStillServes(t: Test, fx: FuzzGateway) {
  const engine = await fx.client.request('PUT', '/engine', { name: 'mock' });
  t.equal(engine.status, 200, 'the mock engine runs again');
  const follower = await fx.client.openSocket('mock-chatty', { tail: 0 }, 'json');
  await follower.waitFor((messages) => messages.length >= 2, 'two live lines of mock-chatty');
  t.ok(
    follower.jsonMessages().every((record) => record.type === 'line'),
    'a follow of mock-chatty gets lines',
  );
  follower.close();
  await follower.waitClosed();
  const deadline = Date.now() + 10_000;
  while (fx.gw.openStreams > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.equal(fx.gw.openStreams, 0, 'no stream stays open');
}
