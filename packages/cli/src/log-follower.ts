import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type WebSocket from 'ws';
import { CliError, GatewayResponseError, GatewayUnreachableError } from './cli-errors.js';
import { readBody, type GatewayClient } from './gateway-client.js';
import { LogPrinter } from './log-printer.js';

/** Close codes of the logs route (contract: "Close codes"). */
const CLOSE_END_OF_LOGS = 1000;
const CLOSE_GATEWAY_SHUTDOWN = 1001;
const CLOSE_ABNORMAL = 1006; // no close frame: the connection dropped
const CLOSE_ENGINE_ERROR = 1011;
const CLOSE_ENGINE_SWITCHED = 1012;
const CLOSE_TOO_MANY_STREAMS = 1013;

export interface RetryPolicy {
  /** First wait before reconnecting; doubled after every failed attempt... */
  initialDelayMs: number;
  /** ...up to this. */
  maxDelayMs: number;
  /**
   * How long to keep trying before giving up. A followed stream waits for an unavailable engine
   * (503) indefinitely; everything else gives up after this long.
   */
  budgetMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { initialDelayMs: 250, maxDelayMs: 2000, budgetMs: 30_000 };

/**
 * The gateway pings every 30 s. A connection that carried neither a ping nor a message for this
 * long is dead (a host that vanished sends no FIN): drop it and reconnect, rather than hang.
 */
export const DEFAULT_SILENCE_TIMEOUT_MS = 75_000;

export interface FollowLogsOptions {
  client: Pick<GatewayClient, 'address' | 'openLogSocket' | 'responseError' | 'unreachable'>;
  container: string;
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
  code?: unknown;
  message?: unknown;
}

type AttemptOutcome =
  | { kind: 'ended' }
  | { kind: 'aborted' }
  /** Worth another attempt; `error` is what to report when the retry budget runs out. */
  | { kind: 'retry'; opened: boolean; engineUnavailable: boolean; error: CliError };

/**
 * Streams one container's logs like `docker logs`, over the `v1.json.enginegate` framing.
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

  constructor(private readonly options: FollowLogsOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.follow = options.query.get('follow') !== 'false';
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
    let delayMs = this.retry.initialDelayMs;
    let retryingSince: number | undefined;
    for (;;) {
      const outcome = await this.attempt(this.nextQuery());
      if (outcome.kind !== 'retry') {
        await this.printer.drained();
        return;
      }
      // The first connection reports its failure at once, as `docker logs` does.
      if (!this.everOpened) throw outcome.error;
      if (outcome.opened) {
        delayMs = this.retry.initialDelayMs;
        retryingSince = Date.now();
      }
      retryingSince ??= Date.now();
      const waitForever = this.follow && outcome.engineUnavailable;
      if (!waitForever && Date.now() - retryingSince > this.retry.budgetMs) throw outcome.error;
      await this.printer.drained();
      this.options.onReconnect?.(outcome.error.message);
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        return; // aborted
      }
      delayMs = Math.min(delayMs * 2, this.retry.maxDelayMs);
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
    return new Promise<AttemptOutcome>((resolve, reject) => {
      if (signal?.aborted) {
        resolve({ kind: 'aborted' });
        return;
      }
      const ws = client.openLogSocket(container, query);
      this.socket = ws;
      let opened = false;
      let settled = false;
      let errorRecord: { code: string; message: string } | undefined;
      // A flag, not a timer per message: messages come at up to hundreds of thousands a second.
      let heard = true;
      let silenceTimer: NodeJS.Timeout | undefined;
      const heardFromGateway = () => {
        heard = true;
      };

      const settle = (outcome: AttemptOutcome | CliError) => {
        if (settled) return;
        settled = true;
        clearInterval(silenceTimer);
        signal?.removeEventListener('abort', onAbort);
        if (ws.readyState !== ws.CLOSED) ws.terminate();
        if (outcome instanceof CliError) reject(outcome);
        else resolve(outcome);
      };
      const onAbort = () => settle({ kind: 'aborted' });
      signal?.addEventListener('abort', onAbort, { once: true });

      ws.on('unexpected-response', (_req, res) => {
        const statusCode = res.statusCode ?? 0;
        void readBody(res).then((body) => {
          const error = client.responseError({ statusCode, body });
          if (statusCode === 503) settle({ kind: 'retry', opened: false, engineUnavailable: true, error });
          else settle(error);
        });
      });

      ws.on('open', () => {
        opened = true;
        this.everOpened = true;
        silenceTimer = setInterval(() => {
          if (!heard && !this.paused) ws.terminate(); // seen as 1006: reconnect
          heard = false;
        }, this.options.silenceTimeoutMs ?? DEFAULT_SILENCE_TIMEOUT_MS);
      });
      ws.on('ping', heardFromGateway);

      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (settled) return;
        heardFromGateway();
        let record: WireRecord;
        try {
          if (isBinary) throw new Error('binary message');
          record = JSON.parse(data.toString('utf8')) as WireRecord;
        } catch {
          settle(new CliError(`the gateway at ${gateway} sent a message that is not a v1.json.enginegate record`));
          return;
        }
        switch (record.type) {
          case 'line': {
            const bytes =
              typeof record.base64 === 'string'
                ? Buffer.from(record.base64, 'base64')
                : Buffer.from(typeof record.line === 'string' ? record.line : '', 'utf8');
            this.printer.line(
              record.stream === 'stderr' ? 'stderr' : 'stdout',
              bytes,
              typeof record.time === 'string' ? record.time : null,
            );
            if (typeof record.cursor === 'string') this.lastCursor = record.cursor;
            break;
          }
          case 'gap':
            this.printer.notice(`some log lines were lost: ${String(record.reason)}`);
            break;
          case 'error':
            errorRecord = { code: String(record.code), message: String(record.message) };
            break;
          // `exit` needs nothing: like `docker logs`, the CLI exits 0 whatever the container's code.
        }
      });

      ws.on('error', (err: Error & { code?: string }) => {
        if (opened) return; // a 'close' follows and says what happened
        const networkError = typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code);
        if (!networkError) {
          settle(new CliError(`the gateway at ${gateway} did not open the log stream: ${err.message}`));
          return;
        }
        settle({ kind: 'retry', opened: false, engineUnavailable: false, error: client.unreachable(err) });
      });

      ws.on('close', (code: number, reasonBuffer: Buffer) => {
        const reason = reasonBuffer.toString('utf8');
        const because = reason ? `: ${reason}` : '';
        switch (code) {
          case CLOSE_END_OF_LOGS:
            settle({ kind: 'ended' });
            break;
          case CLOSE_ENGINE_SWITCHED:
            settle({
              kind: 'retry',
              opened,
              engineUnavailable: true,
              error: new GatewayResponseError(`the engine was switched or lost${because}`, 503, 'ENGINE_UNAVAILABLE'),
            });
            break;
          case CLOSE_ABNORMAL:
            settle({
              kind: 'retry',
              opened,
              engineUnavailable: false,
              error: new GatewayUnreachableError(`lost the connection to the gateway at ${gateway}`),
            });
            break;
          case CLOSE_GATEWAY_SHUTDOWN:
            settle(new CliError(`the gateway at ${gateway} is shutting down`));
            break;
          case CLOSE_ENGINE_ERROR:
            settle(
              new CliError(
                errorRecord
                  ? `${errorRecord.message} (${errorRecord.code})`
                  : `the engine failed while streaming logs${because}`,
              ),
            );
            break;
          case CLOSE_TOO_MANY_STREAMS:
            settle(new CliError(`the gateway at ${gateway} has too many open log streams; try again later${because}`));
            break;
          default:
            settle(new CliError(`the gateway at ${gateway} closed the log stream (code ${code}${because})`));
        }
      });
    });
  }
}
