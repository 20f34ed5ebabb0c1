import {
  ContainerNotFoundError,
  EngineUnavailableError,
  InternalError,
  LogsUnsupportedError,
  errorText,
  isConnectionFailure,
  isEngineGateError,
  type EngineGateError,
} from '@enginegate/plugin-api';

/** Podman answered a request with an error status; `message` is Podman's own words. */
export class LibpodError extends Error {
  override readonly name = 'LibpodError';
  constructor(
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function httpStatusOf(err: unknown): number | undefined {
  return err instanceof LibpodError ? err.statusCode : undefined;
}

/**
 * The container is gone: 404, or — while `podman rm -f` is removing it — a 500 in libpod's
 * words for the same thing ("does not exist in database: no such container").
 */
export function isContainerGone(err: unknown): boolean {
  return httpStatusOf(err) === 404 || (err instanceof LibpodError && /no such container/i.test(err.message));
}

/** Podman 4 answers an ID prefix that several containers share with 500 and these words. */
export function isAmbiguousPrefixError(err: unknown): boolean {
  return err instanceof LibpodError && /more than one result for container/i.test(err.message);
}

/** Podman refuses logs of a container whose log driver keeps none (`none`, `passthrough`). */
function isNotLoggingError(err: unknown): boolean {
  return err instanceof LibpodError && /is not logging output|cannot read logs/i.test(err.message);
}

/**
 * Maps a failed libpod request about container `ref` to the plugin-api error a client gets.
 * (Ambiguity needs the candidates, so the resolver handles it first.)
 */
export function toEngineError(err: unknown, ref: string): EngineGateError {
  if (isEngineGateError(err)) return err;
  if (isConnectionFailure(err)) {
    return new EngineUnavailableError(`the Podman service is not answering: ${errorText(err)}`, {
      cause: err,
    });
  }
  if (httpStatusOf(err) === 404) return new ContainerNotFoundError(ref);
  if (isNotLoggingError(err)) {
    return new LogsUnsupportedError(`the logs of container ${ref} cannot be read: ${errorText(err)}`);
  }
  return new InternalError(`Podman failed: ${errorText(err)}`, { cause: err });
}
