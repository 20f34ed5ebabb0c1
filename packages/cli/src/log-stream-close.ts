// What the end of one log stream attempt means to the CLI: the logs route's close codes
// (contract: "Close codes") turned into "ended", "retry" or a one-line error.
import { CliError, GatewayResponseError, GatewayUnreachableError } from './cli-errors.js';
import type { GatewayClient } from './gateway-client.js';

/** Close codes of the logs route (contract: "Close codes"). */
const CLOSE_END_OF_LOGS = 1000;
const CLOSE_GATEWAY_SHUTDOWN = 1001;
const CLOSE_ABNORMAL = 1006; // no close frame: the connection dropped
const CLOSE_ENGINE_ERROR = 1011;
const CLOSE_ENGINE_SWITCHED = 1012;
const CLOSE_TOO_MANY_STREAMS = 1013;

export type AttemptOutcome =
  | { kind: 'ended' }
  | { kind: 'aborted' }
  /** Worth another attempt; `error` is what to report when the retry budget runs out. */
  | { kind: 'retry'; opened: boolean; engineUnavailable: boolean; error: CliError };

/** An `error` record the gateway sent before closing 1011. */
export interface ErrorRecord {
  code: string;
  message: string;
}

/** The outcome of an attempt whose socket closed with `code` (`reason` its close reason). */
export function closeOutcome(
  code: number,
  reason: string,
  { opened, errorRecord, gateway }: { opened: boolean; errorRecord: ErrorRecord | undefined; gateway: string },
): AttemptOutcome | CliError {
  const because = reason ? `: ${reason}` : '';
  switch (code) {
    case CLOSE_END_OF_LOGS:
      return { kind: 'ended' };
    case CLOSE_ENGINE_SWITCHED:
      return {
        kind: 'retry',
        opened,
        engineUnavailable: true,
        error: new GatewayResponseError(`the engine was switched or lost${because}`, 503, 'ENGINE_UNAVAILABLE'),
      };
    case CLOSE_ABNORMAL:
      return {
        kind: 'retry',
        opened,
        engineUnavailable: false,
        error: new GatewayUnreachableError(`lost the connection to the gateway at ${gateway}`),
      };
    case CLOSE_GATEWAY_SHUTDOWN:
      return new CliError(`the gateway at ${gateway} is shutting down`);
    case CLOSE_ENGINE_ERROR:
      return new CliError(
        errorRecord
          ? `${errorRecord.message} (${errorRecord.code})`
          : `the engine failed while streaming logs${because}`,
      );
    case CLOSE_TOO_MANY_STREAMS:
      return new CliError(`the gateway at ${gateway} has too many open log streams; try again later${because}`);
    default:
      return new CliError(`the gateway at ${gateway} closed the log stream (code ${code}${because})`);
  }
}

/** A socket that failed before it opened: a network error is worth a retry, anything else is not. */
export function openFailure(
  err: Error & { code?: string },
  gateway: string,
  client: Pick<GatewayClient, 'unreachable'>,
): AttemptOutcome | CliError {
  const networkError = typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code);
  if (!networkError) return new CliError(`the gateway at ${gateway} did not open the log stream: ${err.message}`);
  return { kind: 'retry', opened: false, engineUnavailable: false, error: client.unreachable(err) };
}
