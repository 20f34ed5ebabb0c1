import type { Writable } from 'node:stream';
import type WebSocket from 'ws';
import { CliError } from './cli-errors.js';
import type { GatewayClient } from './gateway-client.js';
import { LogPrinter } from './log-printer.js';
import type { MemberPrefixes } from './member-prefixes.js';
import type { AttemptOutcome, ErrorRecord } from './log-stream-close.js';
import { attemptSocket, DEFAULT_RETRY_POLICY, ReconnectBackoff, type RetryPolicy } from './socket-attempt.js';

export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './socket-attempt.js';

/**
 * The gateway pings every 30 s. A connection that carried neither a ping nor a message for this
 * long is dead (a host that vanished sends no FIN): drop it and reconnect, rather than hang.
 */
export const DEFAULT_SILENCE_TIMEOUT_MS = 75_000;

export interface FollowLogsOptions {
  client: Pick<GatewayClient, 'address' | 'openLogSocket' | 'responseError' | 'unreachable'>;
  /** Undefined: a merged stream, selected by `query` (`container=`, `label=`, `project=`, `all=`). */
  container: string | undefined;
  /** A merged stream's `name | ` prefixes; colours on a terminal. */
  prefixes?: MemberPrefixes;
  /** Parameters of the first request (`follow`, `tail`, `since`, ...); reconnects add `after`. */
  query: URLSearchParams;
  stdout: Writable;
  stderr: Writable;
  timestamps: boolean;
  retry?: RetryPolicy;
  /** See DEFAULT_SILENCE_TIMEOUT_MS; a silent connection is dropped after one to two of these. */
  silenceTimeoutMs?: number;
  /** Stops the stream; `followLogs` then resolves. */
  signal?: AbortSignal;
  /** Told about every reconnect, e.g. to show it on a terminal. */
  onReconnect?: (why: string) => void;
}

/** What the `v1.json.enginegate` framing sends, as far as the CLI reads it. */
interface WireRecord {
  type?: unknown;
  stream?: unknown;
  time?: unknown;
  line?: unknown;
  base64?: unknown;
  cursor?: unknown;
  exitCode?: unknown;
  reason?: unknown;
  name?: unknown;
  index?: unknown;
  code?: unknown;
  message?: unknown;
}

/** The first byte of a binary control message (a JSON record follows). */
const BINARY_CONTROL = 3;

function binaryControl(data: Buffer, isBinary: boolean): WireRecord | undefined {
  return isBinary && data[0] === BINARY_CONTROL ? parseRecord(data.subarray(1)) : undefined;
}

function parseRecord(data: Buffer): WireRecord | undefined {
  try {
    return JSON.parse(data.toString('utf8')) as WireRecord;
  } catch {
    return undefined;
  }
}

/**
 * Drops a connection that carried nothing for one to two intervals. A flag, not a timer per
 * message: messages come at up to hundreds of thousands a second.
 */
class SilenceWatch {
  private heardSince = true;
  private timer: NodeJS.Timeout | undefined;

  readonly heard = (): void => {
    this.heardSince = true;
  };

  start(intervalMs: number, onSilent: () => void): void {
    this.timer = setInterval(() => {
      if (!this.heardSince) onSilent();
      this.heardSince = false;
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Streams one container's logs like `docker logs`, over the `v1.json.enginegate` framing (a
 * finished read without times: `v1.binary.enginegate`, see LogFollower.binary).
 *
 * When the gateway closes with 1012 (engine switched or lost) or the connection drops after it
 * was established, it reconnects with `after=<cursor of the last printed line>` so that no line is
 * repeated or lost, backing off from 250 ms to 2 s and waiting out 503s. Resolves on 1000 (the
 * end of the logs); rejects with a one-line CliError otherwise.
 */
export async function followLogs(options: FollowLogsOptions): Promise<void> {
  await new LogFollower(options).run();
}

class LogFollower {
  private readonly retry: RetryPolicy;
  private readonly follow: boolean;
  private readonly printer: LogPrinter;
  private socket: WebSocket | undefined;
  private lastCursor: string | undefined;
  private everOpened = false;
  /** Reading is paused for a slow stdout: silence then is ours, not the gateway's. */
  private paused = false;
  /**
   * A finished read of one container without times (the common `enginegate logs C`) goes over
   * the binary framing: no JSON, and the gateway may leave times and cursors out. Having no
   * cursor, a reconnect reads again in JSON and skips the lines already printed.
   */
  private binary: boolean;
  private linesPrinted = 0;
  private skipLines = 0;

  constructor(private readonly options: FollowLogsOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.follow = options.query.get('follow') !== 'false';
    this.binary = options.container !== undefined && !this.follow && !options.timestamps && !options.query.has('tail');
    this.printer = new LogPrinter(options.stdout, options.stderr, {
      timestamps: options.timestamps,
      // A slow reader (a pager, `| grep`) slows the socket, and through it the engine.
      onBackpressure: () => {
        this.paused = true;
        this.socket?.pause();
      },
      onDrain: () => {
        this.paused = false;
        this.socket?.resume();
      },
    });
  }

  async run(): Promise<void> {
    const { signal } = this.options;
    const backoff = new ReconnectBackoff(this.retry);
    for (;;) {
      const outcome = await this.attempt(this.nextQuery());
      if (outcome.kind !== 'retry') {
        await this.printer.drained();
        return;
      }
      // The first connection reports its failure at once, as `docker logs` does.
      if (!this.everOpened) throw outcome.error;
      backoff.check(outcome, this.follow && outcome.engineUnavailable);
      await this.printer.drained();
      if (this.binary) {
        this.binary = false;
        this.skipLines = this.linesPrinted;
      }
      this.options.onReconnect?.(outcome.error.message);
      if (!(await backoff.wait(signal))) return; // aborted
    }
  }

  private nextQuery(): URLSearchParams {
    const query = new URLSearchParams(this.options.query);
    if (this.lastCursor !== undefined) {
      // `after` resumes right behind the last printed line (and overrides `tail`).
      query.delete('tail');
      query.set('after', this.lastCursor);
    }
    return query;
  }

  private attempt(query: URLSearchParams): Promise<AttemptOutcome> {
    const { client, container, signal } = this.options;
    const gateway = client.address.display;
    let errorRecord: ErrorRecord | undefined;
    const silence = new SilenceWatch();
    const framing = this.binary ? 'binary' : 'json';
    return attemptSocket(client, signal, () => (this.socket = client.openLogSocket(container, query, framing)), {
      onOpen: (ws) => {
        this.everOpened = true;
        ws.on('ping', silence.heard);
        silence.start(this.options.silenceTimeoutMs ?? DEFAULT_SILENCE_TIMEOUT_MS, () => {
          if (!this.paused) ws.terminate(); // seen as 1006: reconnect
        });
      },
      onMessage: (data, isBinary) => {
        silence.heard();
        if (framing === 'binary' && isBinary && data[0] !== BINARY_CONTROL) return this.printBinary(data);
        const record = framing === 'binary' ? binaryControl(data, isBinary) : isBinary ? undefined : parseRecord(data);
        if (record === undefined) {
          return new CliError(`the gateway at ${gateway} sent a message that is not a v1.${framing}.enginegate record`);
        }
        errorRecord = this.print(record) ?? errorRecord;
        return undefined;
      },
      errorRecord: () => errorRecord,
      onSettled: () => silence.stop(),
    });
  }

  /** A `v1.binary.enginegate` line: its stream byte, then its bytes. */
  private printBinary(data: Buffer): CliError | undefined {
    if (data[0] !== 1 && data[0] !== 2) {
      return new CliError(
        `the gateway at ${this.options.client.address.display} sent a binary message of stream ${data[0]}`,
      );
    }
    this.printer.line(data[0] === 2 ? 'stderr' : 'stdout', data.subarray(1), null);
    this.linesPrinted++;
    return undefined;
  }

  /** Prints a line or a gap notice; an `error` record is returned, for the close that follows. */
  private print(record: WireRecord): ErrorRecord | undefined {
    switch (record.type) {
      case 'line': {
        if (this.skipLines > 0) {
          // Printed before the reconnect, over the binary framing.
          this.skipLines--;
          if (typeof record.cursor === 'string') this.lastCursor = record.cursor;
          break;
        }
        const bytes =
          typeof record.base64 === 'string'
            ? Buffer.from(record.base64, 'base64')
            : Buffer.from(typeof record.line === 'string' ? record.line : '', 'utf8');
        const { prefixes } = this.options;
        this.printer.line(
          record.stream === 'stderr' ? 'stderr' : 'stdout',
          bytes,
          typeof record.time === 'string' ? record.time : null,
          prefixes !== undefined && typeof record.name === 'string' ? prefixes.of(record.name) : undefined,
        );
        if (typeof record.cursor === 'string') this.lastCursor = record.cursor;
        break;
      }
      case 'gap':
        this.printer.notice(`some log lines were lost: ${String(record.reason)}`);
        break;
      case 'join':
        if (typeof record.name === 'string' && typeof record.index === 'number')
          this.options.prefixes?.join(record.name, record.index);
        break;
      case 'error':
        return { code: String(record.code), message: String(record.message) };
      // `exit` needs nothing: like `docker logs`, the CLI exits 0 whatever the container's code.
    }
    return undefined;
  }
}
