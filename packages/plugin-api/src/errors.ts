/**
 * Errors with stable codes, as undici's UND_ERR_* and fastify's FST_ERR_*: a client
 * switches on `code`, the gateway maps `statusCode` to the HTTP answer.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'CONTAINER_NOT_FOUND'
  | 'AMBIGUOUS_CONTAINER'
  | 'LOGS_UNSUPPORTED'
  | 'ENGINE_UNAVAILABLE'
  | 'INTERNAL';

export abstract class EngineGateError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly statusCode: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** A request parameter or container reference is malformed (400). */
export class InvalidArgumentError extends EngineGateError {
  readonly code = 'INVALID_ARGUMENT' as const;
  readonly statusCode = 400;
  /** The parameter at fault, e.g. `tail` or `container`. */
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super(message);
    this.parameter = parameter;
  }
}

export class ContainerNotFoundError extends EngineGateError {
  readonly code = 'CONTAINER_NOT_FOUND' as const;
  readonly statusCode = 404;
  constructor(
    readonly ref: string,
    message = `no such container: ${ref}`,
  ) {
    super(message);
  }
}

export class AmbiguousContainerError extends EngineGateError {
  readonly code = 'AMBIGUOUS_CONTAINER' as const;
  readonly statusCode = 409;
  constructor(
    readonly ref: string,
    readonly candidates: readonly string[],
  ) {
    super(`container reference ${ref} is ambiguous: it matches ${candidates.join(', ')}`);
  }
}

/** The container exists but its logs cannot be read back (write-only log driver). */
export class LogsUnsupportedError extends EngineGateError {
  readonly code = 'LOGS_UNSUPPORTED' as const;
  readonly statusCode = 501;
}

export class EngineUnavailableError extends EngineGateError {
  readonly code = 'ENGINE_UNAVAILABLE' as const;
  readonly statusCode = 503;
  /** Seconds a client should wait before retrying (the `Retry-After` header). */
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 2;
  }
}

export class InternalError extends EngineGateError {
  readonly code = 'INTERNAL' as const;
  readonly statusCode = 500;
}

export function isEngineGateError(err: unknown): err is EngineGateError {
  return err instanceof EngineGateError;
}
