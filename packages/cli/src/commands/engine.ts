import { CliError, UsageError } from '../cli-errors.js';
import {
  CLIENT_OPTIONS,
  CLIENT_OPTIONS_USAGE,
  createClient,
  parseCommandLine,
  printUsage,
  type Command,
} from '../command-line.js';

const OPTIONS = { ...CLIENT_OPTIONS, json: { type: 'boolean' } } as const;

/** `GET /engine` and `PUT /engine` answer this. */
export interface EngineStatus {
  name: string | null;
  state: string;
  /** The engines the gateway can switch to (names, or objects with a name). */
  available?: unknown[];
}

function describeEngineEntry(entry: unknown): string {
  const name = (entry as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : JSON.stringify(entry);
}

export function formatEngineStatus(status: EngineStatus): string {
  const lines = [`engine:    ${status.name ?? 'none'}`, `state:     ${status.state}`];
  if (Array.isArray(status.available)) {
    const names = status.available.map((entry) => (typeof entry === 'string' ? entry : describeEngineEntry(entry)));
    lines.push(`available: ${names.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

export const engineCommand: Command = {
  name: 'engine',
  summary: 'show, switch (use NAME) or stop the active engine',
  usage: `Usage: enginegate engine [OPTIONS]            show the active engine and its state
       enginegate engine use NAME [OPTIONS]   switch to engine NAME (moby, containerd, podman, mock, ...)
       enginegate engine stop [OPTIONS]       stop the active engine

Switching or stopping closes open log streams with 1012; \`enginegate logs\` reconnects.

Options:
      --json         print the gateway's JSON answer

${CLIENT_OPTIONS_USAGE}`,

  async run(argv, context) {
    const { values, positionals } = parseCommandLine('engine', argv, OPTIONS);
    if (values.help) return printUsage(context, this.usage);
    const [action, ...rest] = positionals;
    let body: { name: string | null } | undefined;
    if (action === undefined) {
      body = undefined;
    } else if (action === 'use' && rest.length === 1) {
      body = { name: rest[0]! };
    } else if (action === 'use') {
      throw new UsageError(`\`enginegate engine use\` takes one engine name (see \`enginegate engine --help\`)`);
    } else if (action === 'stop' && rest.length === 0) {
      body = { name: null };
    } else {
      throw new UsageError(
        `unknown engine action ${JSON.stringify(positionals.join(' '))}: use \`engine\`, \`engine use NAME\` or \`engine stop\``,
      );
    }
    const client = await createClient(values, context);
    const status =
      body === undefined
        ? await client.getJson<EngineStatus>('/engine')
        : await client.putJson<EngineStatus>('/engine', body);
    if (status === null || typeof status !== 'object' || !('state' in status)) {
      throw new CliError(`the gateway at ${client.address.display} sent an engine status without a state`);
    }
    context.stdout.write(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatEngineStatus(status));
    return 0;
  },
};
