import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Writable } from 'node:stream';
import { UsageError } from './cli-errors.js';
import { DEFAULT_GATEWAY_URL, GatewayClient, parseGatewayAddress, resolveToken } from './gateway-client.js';

/** What a command needs from the process, so that tests can run commands in-process. */
export interface CommandContext {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM where a command should stop cleanly. */
  signal?: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `enginegate --help`. */
  summary: string;
  /** The full `enginegate COMMAND --help` text. */
  usage: string;
  /** Resolves with the exit code; throws CliError for a one-line failure. */
  run(args: string[], context: CommandContext): Promise<number>;
}

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The values `parseArgs` gives for an options table (every option may be absent). */
export type OptionValues<O extends OptionsConfig> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' }
    ? O[K] extends { multiple: true }
      ? boolean[]
      : boolean
    : O[K] extends { multiple: true }
      ? string[]
      : string;
};

/** The options every client command (logs, ps, engine, endpoints) takes. */
export const CLIENT_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  'state-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionsConfig;

export const CLIENT_OPTIONS_USAGE = `Gateway options:
  --url URL          the gateway: http://HOST:PORT or unix:/path/to.sock
                     (env ENGINEGATE_URL; default ${DEFAULT_GATEWAY_URL})
  --token T          the access token (env ENGINEGATE_TOKEN; default: the token file
                     the gateway wrote in its state directory)
  --state-dir DIR    where to look for that token file (env ENGINEGATE_STATE_DIR)`;

/**
 * `parseArgs` in strict mode, with its errors turned into one-line usage errors that name the
 * command (exit 2).
 */
export function parseCommandLine<O extends OptionsConfig>(
  command: string,
  args: string[],
  options: O,
): { values: OptionValues<O>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: values, positionals };
  } catch (err) {
    throw new UsageError(`${describeParseError(err)} (see \`enginegate ${command} --help\`)`);
  }
}

function describeParseError(err: unknown): string {
  const { code, message } = err as { code?: string; message?: string };
  const text = String(message ?? err);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(text)?.[1];
    return option ? `unknown option ${option}` : 'unknown option';
  }
  // Node's messages are one sentence followed by advice for programmers; keep the sentence.
  return text
    .split('. ')[0]!
    .replace(/\.$/, '')
    .replace(/^Option /, 'option ');
}

/** Exactly `count` positional arguments, else a usage error naming what is missing or extra. */
export function expectPositionals(command: string, positionals: string[], names: string[]): string[] {
  if (positionals.length < names.length) {
    throw new UsageError(`missing ${names[positionals.length]} (see \`enginegate ${command} --help\`)`);
  }
  if (positionals.length > names.length) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(positionals[names.length])} (see \`enginegate ${command} --help\`)`,
    );
  }
  return positionals;
}

/** The client for `--url`/`--token`/`--state-dir`, with the environment fallbacks. */
export async function createClient(
  values: { url?: string; token?: string; 'state-dir'?: string },
  context: CommandContext,
): Promise<GatewayClient> {
  const address = parseGatewayAddress(values.url ?? (context.env.ENGINEGATE_URL || DEFAULT_GATEWAY_URL));
  const token = await resolveToken({ flag: values.token, env: context.env, stateDir: values['state-dir'] });
  return new GatewayClient(address, token);
}

/** Writes a usage text (help was asked for: exit 0). */
export function printUsage(context: CommandContext, usage: string): number {
  context.stdout.write(`${usage.trimEnd()}\n`);
  return 0;
}
