import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { errorText, type Engine } from '@enginegate/plugin-api';
import type {
  Capabilities,
  CapabilityName,
  ContainerOptions,
  ContainerWrite,
  ConformanceTarget,
} from './conformance-target.js';
import type { EngineProbe } from './engine-probe.js';
import {
  decodeBinaryMessages,
  decodeJsonMessages,
  decodeRawMessages,
  decodeTextMessages,
  lineRecords,
  preview,
  type DecodedLine,
  type DecodedRecord,
} from './framing-decoders.js';
import { HttpStatusError, type Framing, type LogQuery, type LogsClient } from '@enginegate/test-client';

export interface TestContainer {
  ref: string;
  written: ContainerWrite[];
  options: ContainerOptions;
  remove(): Promise<void>;
}

const DEFAULT_CAPABILITIES: Required<Capabilities> = {
  stderr: true,
  times: true,
  exits: true,
  exitCode: true,
  tty: true,
  idPrefix: true,
  binarySafe: true,
};

/** Time a container may take to write what it was given and exit, before a scenario gives up. */
export const SETTLE_TIMEOUT_MS = 15_000;

/**
 * What every scenario works with: the gateway client, the plugin probe, and container
 * creation that cleans up after the scenario. One per suite run.
 */
export class SuiteHarness {
  readonly capabilities: Required<Capabilities>;
  private counter = 0;
  private readonly runId = randomBytes(3).toString('hex');

  constructor(
    readonly target: ConformanceTarget,
    readonly client: LogsClient,
    readonly probe: EngineProbe,
  ) {
    this.capabilities = { ...DEFAULT_CAPABILITIES, ...target.capabilities };
    // No exit, no exit code.
    if (!this.capabilities.exits) this.capabilities.exitCode = false;
  }

  /** Why the engine cannot do `capability`, or undefined when it can. */
  missing(capability: CapabilityName): string | undefined {
    if (this.capabilities[capability]) return undefined;
    const declared = capability === 'exitCode' && this.target.capabilities?.exitCode !== false ? 'exits' : capability;
    return (
      this.target.capabilityNotes?.[declared] ??
      `the ${this.target.name} engine declares capabilities.${declared} = false`
    );
  }

  get engine(): Engine {
    return this.probe.engine;
  }

  /** Creates a container through the target; it is removed when `t` ends. */
  async createContainer(t: Test, written: ContainerWrite[], options: ContainerOptions = {}): Promise<TestContainer> {
    this.counter += 1;
    const name = `egtk-${this.runId}-${this.counter}`;
    const created = await this.target.createContainer(written, options, { name, engine: this.engine });
    let removed = false;
    const remove = async () => {
      if (removed) return;
      removed = true;
      await created.remove();
    };
    t.teardown(async () => {
      try {
        await remove();
      } catch (err) {
        t.comment(`removing test container ${created.ref} failed: ${errorText(err)}`);
      }
    });
    return { ref: created.ref, written, options, remove };
  }

  /**
   * Creates a container that writes `written` at once and exits 0, and waits (following its
   * logs) until it has; on an engine whose containers never exit, until a `follow=false` read
   * holds every line. Returns the JSON records of a `follow=false` read: the reference
   * against which other reads are compared.
   */
  async createFinished(
    t: Test,
    written: ContainerWrite[],
    options: ContainerOptions = {},
  ): Promise<{ container: TestContainer; reference: DecodedLine[] }> {
    const container = await this.createContainer(t, written, { exitCode: 0, ...options });
    if (this.capabilities.exits) await this.waitForEnd(container.ref, written.length);
    else await this.readJsonWhenComplete(container.ref, written.length);
    const reference = lineRecords(await this.readJson(container.ref, { follow: false }));
    return { container, reference };
  }

  /** Reads a running container (`follow=false`) until it has written `count` lines. */
  async readJsonWhenComplete(ref: string, count: number): Promise<DecodedRecord[]> {
    let records: DecodedRecord[] = [];
    const complete = await eventually(
      async () => {
        records = await this.readJson(ref, { follow: false });
        return lineRecords(records).length >= count;
      },
      SETTLE_TIMEOUT_MS,
      50,
    );
    if (!complete)
      throw new Error(
        `${ref} had ${lineRecords(records).length} of its ${count} lines readable after ${SETTLE_TIMEOUT_MS} ms`,
      );
    return records;
  }

  /** Follows a container's logs until the gateway ends the stream (the container exited). */
  async waitForEnd(ref: string, expectedLines: number): Promise<DecodedRecord[]> {
    const socket = await this.client.openSocket(ref, { follow: true }, 'json');
    let close;
    try {
      close = await socket.waitClosed(SETTLE_TIMEOUT_MS);
    } catch (err) {
      throw new Error(
        `a followed stream of an exiting container did not end: ${(err as Error).message}; ` +
          `it had written ${expectedLines} lines`,
        { cause: err },
      );
    }
    if (close.code !== 1000)
      throw new Error(`following ${ref} to its exit ended with close ${close.code} ${close.reason}, not 1000`);
    return decodeJsonMessages(socket.messages);
  }

  /** Reads one WebSocket stream to its end in the JSON framing; the close must be 1000. */
  async readJson(ref: string, query: LogQuery, timeoutMs = SETTLE_TIMEOUT_MS): Promise<DecodedRecord[]> {
    return decodeJsonMessages(await this.readMessages(ref, query, 'json', timeoutMs));
  }

  async readBinary(ref: string, query: LogQuery): Promise<DecodedRecord[]> {
    return decodeBinaryMessages(await this.readMessages(ref, query, 'binary'));
  }

  async readText(ref: string, query: LogQuery): Promise<string[]> {
    return decodeTextMessages(await this.readMessages(ref, query, 'text'));
  }

  async readRaw(ref: string, query: LogQuery): Promise<Buffer> {
    return decodeRawMessages(await this.readMessages(ref, query, 'raw'));
  }

  private async readMessages(ref: string, query: LogQuery, framing: Framing, timeoutMs = SETTLE_TIMEOUT_MS) {
    const { messages, close, protocol } = await this.client.readSocket(ref, query, framing, timeoutMs);
    const offered = framing === 'raw' ? '' : `v1.${framing}.enginegate`;
    if (protocol !== offered)
      throw new Error(
        `the gateway picked subprotocol ${JSON.stringify(protocol)} for an offer of ${JSON.stringify(offered)}`,
      );
    if (close.code !== 1000)
      throw new Error(`the ${framing} stream ended with close ${close.code} ${close.reason}, not 1000`);
    return messages;
  }

  /**
   * Checks that the logs route refuses `ref`+`query` with `status` and the JSON error `code`,
   * both as plain HTTP and as a WebSocket upgrade (the refusal must come before the upgrade).
   */
  async expectRefusal(
    t: Test,
    ref: string,
    query: LogQuery,
    status: number,
    code: string,
    options: { framing?: Framing; protocols?: string[]; messageMatches?: RegExp; label?: string } = {},
  ): Promise<void> {
    const label = options.label ?? `${ref}?${new URLSearchParams(stringQuery(query))}`;
    const http = await this.client.readHttp(ref, query);
    t.equal(http.status, status, `HTTP ${label}: status ${status}`);
    const httpError = new HttpStatusError(http.status, {}, http.body.toString()).error;
    t.equal(httpError?.code, code, `HTTP ${label}: error code ${code} (body ${preview(http.body, 200)})`);
    if (options.messageMatches)
      t.match(httpError?.message ?? '', options.messageMatches, `HTTP ${label}: the message says what is wrong`);
    if (status === 503) t.ok(http.headers.get('retry-after'), `HTTP ${label}: 503 carries Retry-After`);

    try {
      const socket = await this.client.openSocket(ref, query, options.framing ?? 'json', options.protocols);
      socket.close();
      t.fail(`upgrade ${label}: was accepted; expected ${status} before the upgrade`);
    } catch (err) {
      if (!(err instanceof HttpStatusError)) throw err;
      t.equal(err.status, status, `upgrade ${label}: refused with ${status}`);
      t.equal(err.error?.code, code, `upgrade ${label}: error code ${code}`);
      if (status === 503) t.ok(err.headers['retry-after'], `upgrade ${label}: 503 carries Retry-After`);
    }
  }
}

function stringQuery(query: LogQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) if (value !== undefined) out[key] = String(value);
  return out;
}

/** `count` lines `<label> line <i>` on stdout, or alternating stdout/stderr when `mixed`. */
export function numberedLines(label: string, count: number, mixed = false): ContainerWrite[] {
  return Array.from({ length: count }, (_, i) => ({
    stream: mixed && i % 2 === 1 ? 'stderr' : 'stdout',
    bytes: Buffer.from(`${label} line ${i}`),
  }));
}

/** The output as a raw reader sees it: every line followed by a newline. */
export function joinedOutput(lines: Array<{ bytes: Buffer }>): Buffer {
  return Buffer.concat(lines.flatMap((line) => [line.bytes, Buffer.from('\n')]));
}

/**
 * Compares lines by bytes (and stream, unless `ignoreStream`), reporting the first difference
 * briefly: a 100 KiB line must not flood the test output.
 */
export function sameLines(
  t: Test,
  actual: Array<{ stream?: string; bytes: Buffer }>,
  expected: Array<{ stream?: string; bytes: Buffer }>,
  message: string,
  options: { ignoreStream?: boolean } = {},
): boolean {
  const count = Math.max(actual.length, expected.length);
  for (let i = 0; i < count; i++) {
    const a = actual[i];
    const e = expected[i];
    const differs =
      !a ||
      !e ||
      !a.bytes.equals(e.bytes) ||
      (!options.ignoreStream && a.stream !== undefined && e.stream !== undefined && a.stream !== e.stream);
    if (differs) {
      return t.fail(message, {
        diagnostic: true,
        firstDifferenceAt: i,
        actualCount: actual.length,
        expectedCount: expected.length,
        actual: a ? `${a.stream ?? ''} ${preview(a.bytes)}` : '(none)',
        expected: e ? `${e.stream ?? ''} ${preview(e.bytes)}` : '(none)',
      });
    }
  }
  return t.pass(message);
}

/** Lines of one stream, in order. */
export function ofStream<L extends { stream?: string }>(lines: L[], stream: string): L[] {
  return lines.filter((line) => line.stream === stream);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true; false after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 25,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
