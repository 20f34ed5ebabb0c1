/**
 * Failures the CLI reports as ONE line on stderr (`enginegate: <message>`) and a non-zero exit.
 * Anything else that reaches the top level is a bug and is reported the same way, with exit 1.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The command line itself is wrong (unknown command or flag, missing value): exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** The gateway answered with an error status; `code` is the gateway's stable error code. */
export class GatewayResponseError extends CliError {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** The gateway could not be reached at all (refused, no socket file, DNS, ...). */
export class GatewayUnreachableError extends CliError {}
