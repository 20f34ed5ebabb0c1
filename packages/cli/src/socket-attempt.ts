// One connection attempt on a gateway WebSocket, and the backoff between attempts: what
// `enginegate logs -f` and `enginegate events` share (each adds only what it does with messages).
import { setTimeout as sleep } from 'node:timers/promises';
import type WebSocket from 'ws';
import { CliError } from './cli-errors.js';
import { readBody, type GatewayClient } from './gateway-client.js';
import { closeOutcome, openFailure, type AttemptOutcome, type ErrorRecord } from './log-stream-close.js';

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

export interface SocketAttemptHandlers {
  /** The handshake is done. */
  onOpen?(ws: WebSocket): void;
  /** One message; a CliError returned ends the attempt with it. */
  onMessage(data: Buffer, isBinary: boolean): CliError | undefined;
  /** The last `error` record received, which a 1011 close reports. */
  errorRecord?(): ErrorRecord | undefined;
  /** Runs once, when the attempt has settled (timers to stop). */
  onSettled?(): void;
}

/**
 * Opens the socket and settles once, on the first of: the signal aborting, a refused upgrade (a
 * 503 is worth a retry, any other status is its error), a failure before the open, a message
 * handler's error, the close (by its code, see closeOutcome).
 */
export function attemptSocket(
  client: Pick<GatewayClient, 'address' | 'responseError' | 'unreachable'>,
  signal: AbortSignal | undefined,
  open: () => WebSocket,
  handlers: SocketAttemptHandlers,
): Promise<AttemptOutcome> {
  const gateway = client.address.display;
  return new Promise<AttemptOutcome>((resolve, reject) => {
    if (signal?.aborted) return resolve({ kind: 'aborted' });
    const ws = open();
    let opened = false;
    let settled = false;
    const settle = (outcome: AttemptOutcome | CliError) => {
      if (settled) return;
      settled = true;
      handlers.onSettled?.();
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
      handlers.onOpen?.(ws);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (settled) return;
      const failure = handlers.onMessage(data, isBinary);
      if (failure) settle(failure);
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (opened) return; // a 'close' follows and says what happened
      settle(openFailure(err, gateway, client));
    });
    ws.on('close', (code: number, reason: Buffer) => {
      settle(closeOutcome(code, reason.toString('utf8'), { opened, errorRecord: handlers.errorRecord?.(), gateway }));
    });
  });
}

/** The wait between attempts: from `initialDelayMs`, doubled up to `maxDelayMs`, within a budget. */
export class ReconnectBackoff {
  private delayMs: number;
  private retryingSince: number | undefined;

  constructor(private readonly policy: RetryPolicy) {
    this.delayMs = policy.initialDelayMs;
  }

  /**
   * After a retry outcome: a connection that had opened starts the backoff and the budget
   * afresh; throws the outcome's error once the budget is spent, unless `waitForever`.
   */
  check(outcome: Extract<AttemptOutcome, { kind: 'retry' }>, waitForever: boolean): void {
    if (outcome.opened) {
      this.delayMs = this.policy.initialDelayMs;
      this.retryingSince = undefined;
    }
    this.retryingSince ??= Date.now();
    if (!waitForever && Date.now() - this.retryingSince > this.policy.budgetMs) throw outcome.error;
  }

  /** Waits the current delay, then doubles it; false when the signal aborted the wait. */
  async wait(signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await sleep(this.delayMs, undefined, { signal });
    } catch {
      return false;
    }
    this.delayMs = Math.min(this.delayMs * 2, this.policy.maxDelayMs);
    return true;
  }
}
