// `enginegate events`: the gateway's events stream, printed as it comes, reopened after an
// engine switch (1012) or a dropped connection.
import type { Writable } from 'node:stream';
import { CliError } from './cli-errors.js';
import type { GatewayClient } from './gateway-client.js';
import type { AttemptOutcome } from './log-stream-close.js';
import { attemptSocket, DEFAULT_RETRY_POLICY, ReconnectBackoff, type RetryPolicy } from './socket-attempt.js';

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
  const backoff = new ReconnectBackoff(options.retry ?? DEFAULT_RETRY_POLICY);
  let everOpened = false;
  for (;;) {
    const outcome = await attempt(options, () => (everOpened = true));
    if (outcome.kind === 'aborted') return;
    // 'ended': the events stream does not end by itself; it is reopened like a dropped one.
    if (outcome.kind === 'retry') {
      if (!everOpened) throw outcome.error;
      // An engine that is down is waited for; a gateway that is gone, only within the budget.
      backoff.check(outcome, outcome.engineUnavailable);
    }
    options.onReconnect?.(outcome.kind === 'retry' ? outcome.error.message : 'the events stream ended');
    if (!(await backoff.wait(options.signal))) return; // aborted
  }
}

function attempt(options: FollowEventsOptions, onOpen: () => void): Promise<AttemptOutcome> {
  const { client, signal } = options;
  const gateway = client.address.display;
  let synced = false;
  return attemptSocket(client, signal, () => client.openEventsSocket(), {
    onOpen,
    onMessage: (data) => {
      let record: EventsRecord;
      try {
        record = JSON.parse(data.toString('utf8')) as EventsRecord;
      } catch {
        return new CliError(`the gateway at ${gateway} sent an events message that is not JSON`);
      }
      if (record.type === 'synced') synced = true;
      if (options.json) options.stdout.write(`${JSON.stringify(record)}\n`);
      else if (synced && record.type === 'container') options.stdout.write(formatEventLine(record));
      return undefined;
    },
  });
}
