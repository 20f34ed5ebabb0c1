import { cutInput } from './input-echo.js';

/**
 * Every error a client can get, in the style of undici's UND_ERR_* and fastify's FST_ERR_*:
 * one base class, one list of stable codes with their HTTP status. Plugins and the gateway
 * throw these; the gateway answers `{ "error": { code, message } }` with the code's status.
 *
 * To add a code: add one line to ERROR_CODES (the status is the answer's HTTP status), then
 * throw `new EngineGateError('NEW_CODE', message)` or add a subclass below for a code with its
 * own fields. docs/api.md lists the codes a client can see.
 */
export const ERROR_CODES = {
  /** A request parameter, body field or container reference is malformed. */
  INVALID_ARGUMENT: 400,
  /**
   * Not a request the gateway takes: malformed HTTP, a bad WebSocket upgrade (no key, a wrong
   * version, a malformed subprotocol list), an upgrade of a route that is not a WebSocket route.
   */
  BAD_REQUEST: 400,
  /** No token, or the wrong one. */
  UNAUTHORIZED: 401,
  /** A browser origin that is not allowed. */
  FORBIDDEN: 403,
  /** No such route or passthrough endpoint. */
  NOT_FOUND: 404,
  /** The container reference names no container of the engine. */
  CONTAINER_NOT_FOUND: 404,
  /** An ID prefix that matches several containers. */
  AMBIGUOUS_CONTAINER: 409,
  /** The request line and headers, or the body, did not arrive within the time limit (10 s). */
  REQUEST_TIMEOUT: 408,
  /** A request body over the limit. */
  PAYLOAD_TOO_LARGE: 413,
  /** A path segment (a container reference) far over any valid length. */
  URI_TOO_LONG: 414,
  /** A request body of a type the route does not read. */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** The `Host` header names no name of the gateway (DNS rebinding): add names with --allow-host. */
  MISDIRECTED_REQUEST: 421,
  /** The request line and headers are over the size limit (16 KiB). */
  HEADERS_TOO_LARGE: 431,
  /** A bug or an engine failure the client cannot fix; the gateway log has the details. */
  INTERNAL: 500,
  /** The container exists but its logs cannot be read back (e.g. a write-only log driver). */
  LOGS_UNSUPPORTED: 501,
  /** The engine is stopped, starting or unreachable: retry after `Retry-After`. */
  ENGINE_UNAVAILABLE: 503,
  /** The gateway's stream limit (in total or for one client) is reached: retry after `Retry-After`. */
  TOO_MANY_STREAMS: 503,
  /** The gateway is shutting down: the last record of an NDJSON stream it ended; reconnect later. */
  SHUTDOWN: 503,
  /** The gateway's connection limit (in total or for one client address) is reached. */
  TOO_MANY_CONNECTIONS: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Marks an EngineGateError across copies of this package: a plugin installed with its own
 * plugin-api throws errors of *its* classes, which `instanceof` in the gateway would not see.
 * `Symbol.for` is the same symbol in every copy, so the brand (and the code) is what counts.
 */
const BRAND: unique symbol = Symbol.for('enginegate.error');

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

export interface EngineGateErrorOptions {
  cause?: unknown;
  /** Seconds a client should wait before retrying (the `Retry-After` header of a 503). */
  retryAfterSeconds?: number;
}

export class EngineGateError extends Error {
  readonly code: ErrorCode;
  /** The HTTP status of `code` (from ERROR_CODES). */
  readonly statusCode: number;
  readonly retryAfterSeconds: number | undefined;
  declare readonly [BRAND]: true;

  constructor(code: ErrorCode, message: string, options: EngineGateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = ERROR_CODES[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
    Object.defineProperty(this, BRAND, { value: true });
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/**
 * True for an EngineGateError of any copy of plugin-api: branded, with a code of the list.
 * Never `instanceof` alone (see BRAND).
 */
export function isEngineGateError(err: unknown): err is EngineGateError {
  if (err === null || typeof err !== 'object') return false;
  return (err as { [BRAND]?: unknown })[BRAND] === true && isErrorCode((err as { code?: unknown }).code);
}

/** True when `err` is an EngineGateError (of any copy) with this code. */
export function hasErrorCode(err: unknown, code: ErrorCode): err is EngineGateError {
  return isEngineGateError(err) && err.code === code;
}

/** A thrown value's message, for logs and error texts (anything may be thrown). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A request parameter or container reference is malformed (400). */
export class InvalidArgumentError extends EngineGateError {
  declare readonly code: 'INVALID_ARGUMENT';
  /** The parameter at fault, e.g. `tail` or `container`. */
  readonly parameter: string;
  constructor(parameter: string, message: string, options?: EngineGateErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
    this.parameter = parameter;
  }
}

export class ContainerNotFoundError extends EngineGateError {
  declare readonly code: 'CONTAINER_NOT_FOUND';
  constructor(
    readonly ref: string,
    message = `no such container: ${cutInput(ref)}`,
  ) {
    super('CONTAINER_NOT_FOUND', message);
  }
}

export class AmbiguousContainerError extends EngineGateError {
  declare readonly code: 'AMBIGUOUS_CONTAINER';
  constructor(
    readonly ref: string,
    readonly candidates: readonly string[],
  ) {
    super(
      'AMBIGUOUS_CONTAINER',
      `container reference ${cutInput(ref)} is ambiguous: it matches ${candidates.join(', ')}`,
    );
  }
}

/** The container exists but its logs cannot be read back (write-only log driver). */
export class LogsUnsupportedError extends EngineGateError {
  declare readonly code: 'LOGS_UNSUPPORTED';
  constructor(message: string, options?: EngineGateErrorOptions) {
    super('LOGS_UNSUPPORTED', message, options);
  }
}

/** The engine is stopped or unreachable (503, `Retry-After` default 2 s). */
export class EngineUnavailableError extends EngineGateError {
  declare readonly code: 'ENGINE_UNAVAILABLE';
  declare readonly retryAfterSeconds: number;
  constructor(message: string, options?: EngineGateErrorOptions) {
    super('ENGINE_UNAVAILABLE', message, { ...options, retryAfterSeconds: options?.retryAfterSeconds ?? 2 });
  }
}

export class InternalError extends EngineGateError {
  declare readonly code: 'INTERNAL';
  constructor(message: string, options?: EngineGateErrorOptions) {
    super('INTERNAL', message, options);
  }
}
