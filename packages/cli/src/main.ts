import { CliError } from './cli-errors.js';
import type { Command, CommandContext } from './command-line.js';
import { conformanceCommand } from './commands/conformance.js';
import { endpointsCommand } from './commands/endpoints.js';
import { engineCommand } from './commands/engine.js';
import { eventsCommand } from './commands/events.js';
import { logsCommand } from './commands/logs.js';
import { pluginCommand } from './commands/plugin.js';
import { psCommand } from './commands/ps.js';
import { serveCommand } from './commands/serve.js';

export const COMMANDS: readonly Command[] = [
  serveCommand,
  logsCommand,
  psCommand,
  eventsCommand,
  engineCommand,
  endpointsCommand,
  conformanceCommand,
  pluginCommand,
];

/** The longest command name and two spaces: every summary starts in one column. */
const NAME_WIDTH = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;

export const MAIN_USAGE = `Usage: enginegate COMMAND [OPTIONS]

Streams the logs of containers of Docker (moby), containerd, Podman or a mock engine.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(NAME_WIDTH)}${c.summary}`).join('\n')}

Run \`enginegate COMMAND --help\` for a command's options.`;

/**
 * Runs one command line and resolves with the exit code. Every failure is ONE line on stderr:
 * exit 2 for a wrong command line, 1 otherwise.
 */
export async function main(argv: string[], context: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const helpFor = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    // Help asked for goes to stdout; help instead of a missing command is an error (stderr, 2).
    const destination = name === undefined ? context.stderr : context.stdout;
    destination.write(`${(helpFor?.usage ?? MAIN_USAGE).trimEnd()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    return fail(context, new CliError(`unknown command ${JSON.stringify(name)} (see \`enginegate --help\`)`, 2));
  }
  try {
    return await command.run(rest, context);
  } catch (err) {
    return fail(context, err);
  }
}

function fail(context: CommandContext, err: unknown): number {
  const cliError = err instanceof CliError ? err : undefined;
  // Anything not a CliError is unexpected (a bug or a gateway-side failure): still one line.
  const message = cliError?.message ?? describeUnexpected(err);
  context.stderr.write(`enginegate: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return cliError?.exitCode ?? 1;
}

function describeUnexpected(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
