import {
  ContainerNotFoundError,
  EngineUnavailableError,
  InternalError,
  LogsUnsupportedError,
  isConnectionFailure,
  isEngineGateError,
  type EngineGateError,
} from '@enginegate/plugin-api';

/** What docker-modem rejects with: a Node socket error, or an HTTP status with Docker's message. */
interface DockerModemError extends Error {
  code?: string;
  statusCode?: number;
  json?: { message?: string } | null;
}

/** Docker's own words from an HTTP error, without docker-modem's `(HTTP code …)` wrapping. */
export function dockerMessage(err: unknown): string {
  const e = err as DockerModemError;
  const fromJson = e?.json?.message;
  if (typeof fromJson === 'string' && fromJson !== '') return fromJson;
  const text = e instanceof Error ? e.message : String(err);
  return text.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

export function httpStatusOf(err: unknown): number | undefined {
  const status = (err as DockerModemError | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Docker 20.10 answers an ambiguous ID prefix with 500, newer ones with 400; the words agree. */
export function isAmbiguousPrefixError(err: unknown): boolean {
  return /multiple IDs found with provided prefix/i.test(dockerMessage(err));
}

/**
 * Maps a failed Docker request about container `ref` to the plugin-api error a client gets.
 * (Ambiguity needs the candidates, so the caller handles it first.)
 */
export function toEngineError(err: unknown, ref: string): EngineGateError {
  if (isEngineGateError(err)) return err;
  if (isConnectionFailure(err)) {
    return new EngineUnavailableError(`the Docker daemon is not answering: ${(err as Error).message}`, { cause: err });
  }
  switch (httpStatusOf(err)) {
    case 404:
      return new ContainerNotFoundError(ref);
    case 501:
      return new LogsUnsupportedError(`the logs of container ${ref} cannot be read: ${dockerMessage(err)}`);
    default:
      return new InternalError(`Docker failed: ${dockerMessage(err)}`, { cause: err });
  }
}
