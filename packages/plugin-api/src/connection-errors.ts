import { hasErrorCode } from './errors.js';

/** Socket-level failures of a request to a daemon: it is not there (or went away), whatever was asked. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOENT', // the unix socket file is gone
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

/**
 * True when a request to a daemon over HTTP (node's http, undici, dockerode) failed because
 * the daemon could not be reached or dropped the connection — not because it answered with
 * an error. An EngineUnavailableError and a request timeout (AbortSignal.timeout) count too.
 */
export function isConnectionFailure(err: unknown): boolean {
  const e = err as (Error & { code?: unknown }) | undefined;
  if (!e || typeof e !== 'object') return false;
  if (hasErrorCode(e, 'ENGINE_UNAVAILABLE')) return true;
  if (e.name === 'TimeoutError') return true;
  if (e.message === 'socket hang up' || e.message === 'aborted') return true;
  return typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code);
}
