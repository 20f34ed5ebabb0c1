// `enginegate events`: the gateway's events stream, printed as it comes, reopened after an
// engine switch (1012) or a dropped connection.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { CliError } from './cli-errors.js';
import { readBody, type GatewayClient } from './gateway-client.js';
import { closeOutcome, openFailure, type AttemptOutcome } from './log-stream-close.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './log-follower.js';

/** One record of the events stream, as far as the CLI reads it. */
interface EventsRecord {
  type?: unknown;
  action?: unknown;
  time?: unknown;
  exitCode?: unknown;
  container?: { id?: unknown; names?: unknown; image?: unknown };
}

export interface FollowEventsOptions {
  client: GatewayClient;
  stdout: Writable;
  /** Every record as NDJSON (present, synced and live); otherwise live events only, as text. */
  json: boolean;
  signal?: AbortSignal;
  retry?: RetryPolicy;
  /** Told about every reconnect, e.g. to show it on a terminal. */
  onReconnect?: (why: string) => void;
}

/**
 * `docker events`' line for one event: time, `container`, action, full ID, then what it is
 * (name, image; the exit code of a `die`).
 */
export function formatEventLine(record: EventsRecord): string {
  const container = record.container ?? {};
  const names = Array.isArray(container.names) ? container.names : [];
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const details = [`name=${text(names[0])}`, `image=${text(container.image)}`];
  if (typeof record.exitCode === 'number') details.push(`exitCode=${record.exitCode}`);
  const time = typeof record.time === 'string' ? record.time : new Date().toISOString();
  return `${time} container ${text(record.action)} ${text(container.id)} (${details.join(', ')})\n`;
}

/** Follows the events until the signal aborts (or a failure that a retry cannot mend). */
export async function followEvents(options: FollowEventsOptions): Promise<void> {
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  let delayMs = retry.initialDelayMs;
  let everOpened = false;
  let retryingSince: number | undefined;
  for (;;) {
    const outcome = await attempt(options, () => (everOpened = true));
    if (outcome.kind === 'aborted') return;
    // 'ended': the events stream does not end by itself; it is reopened like a dropped one.
    if (outcome.kind === 'retry') {
      if (!everOpened) throw outcome.error;
      if (outcome.opened) {
        delayMs = retry.initialDelayMs;
        retryingSince = undefined;
      }
      retryingSince ??= Date.now();
      // An engine that is down is waited for; a gateway that is gone, only within the budget.
      if (!outcome.engineUnavailable && Date.now() - retryingSince > retry.budgetMs) throw outcome.error;
    }
    options.onReconnect?.(outcome.kind === 'retry' ? outcome.error.message : 'the events stream ended');
    try {
      await sleep(delayMs, undefined, { signal: options.signal });
    } catch {
      return; // aborted
    }
    delayMs = Math.min(delayMs * 2, retry.maxDelayMs);
  }
}

function attempt(options: FollowEventsOptions, onOpen: () => void): Promise<AttemptOutcome> {
  const { client, signal } = options;
  const gateway = client.address.display;
  return new Promise<AttemptOutcome>((resolve, reject) => {
    if (signal?.aborted) return resolve({ kind: 'aborted' });
    const ws = client.openEventsSocket();
    let opened = false;
    let synced = false;
    let settled = false;
    const settle = (outcome: AttemptOutcome | CliError) => {
      if (settled) return;
      settled = true;
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
      onOpen();
    });
    ws.on('message', (data: Buffer) => {
      let record: EventsRecord;
      try {
        record = JSON.parse(data.toString('utf8')) as EventsRecord;
      } catch {
        return settle(new CliError(`the gateway at ${gateway} sent an events message that is not JSON`));
      }
      if (record.type === 'synced') synced = true;
      if (options.json) options.stdout.write(`${JSON.stringify(record)}\n`);
      else if (synced && record.type === 'container') options.stdout.write(formatEventLine(record));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (!opened) settle(openFailure(err, gateway, client));
    });
    ws.on('close', (code: number, reason: Buffer) => {
      settle(closeOutcome(code, reason.toString('utf8'), { opened, errorRecord: undefined, gateway }));
    });
  });
}
