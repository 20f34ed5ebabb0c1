// A real gateway (mock engine) in the test process, for the end-to-end CLI tests.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateway, type Gateway, type GatewayOptions } from '@enginegate/gateway';
import mockPlugin from '@enginegate/plugin-mock';
import { cliEnv } from './cli-process.js';

export const TOKEN = 'e2e-token-0123456789';

type Tap = { teardown(fn: () => unknown): void };

/** A temporary directory removed when `t` ends. */
export function temporaryDirectory(t: Tap, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestGateway {
  gateway: Gateway;
  url: string;
  /** The environment of a CLI run against this gateway (URL and token). */
  env: NodeJS.ProcessEnv;
  /** When the engine started: mock-exit has written its 20 lines and exited 1 s later. */
  startedAt: number;
}

/** Starts a gateway on a free loopback port with the mock engine; `t` closes it. */
export async function startGateway(t: Tap, options: GatewayOptions = {}): Promise<TestGateway> {
  const gateway = await createGateway({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    engine: 'mock',
    builtinPlugins: [mockPlugin],
    stateDir: temporaryDirectory(t, 'enginegate-cli-state-'),
    logger: false,
    ...options,
  });
  const startedAt = Date.now();
  const url = await gateway.listen();
  t.teardown(() => gateway.close());
  return { gateway, url, env: cliEnv({ ENGINEGATE_URL: url, ENGINEGATE_TOKEN: TOKEN }), startedAt };
}

/** A request to the gateway, as a test needs to prod it (switch engines, compare output). */
export function request(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, url),
      { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until mock-exit (20 lines in ~1 s after the engine started) has exited. */
export async function afterMockExitExited(fixture: TestGateway): Promise<void> {
  await sleep(Math.max(0, fixture.startedAt + 1500 - Date.now()));
}

/** The N of every `chatty line N stream` (mock-chatty numbers its lines from 1). */
export function chattyNumbers(text: string): number[] {
  return [...text.matchAll(/chatty line (\d+) (stdout|stderr)/g)].map((m) => Number(m[1]));
}
