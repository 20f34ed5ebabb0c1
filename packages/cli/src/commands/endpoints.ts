import { CliError } from '../cli-errors.js';
import {
  CLIENT_OPTIONS,
  CLIENT_OPTIONS_USAGE,
  createClient,
  expectPositionals,
  parseCommandLine,
  printUsage,
  type Command,
} from '../command-line.js';
import { formatTable } from '../text-table.js';

const OPTIONS = { ...CLIENT_OPTIONS, json: { type: 'boolean' } } as const;

/** `GET /passthrough` answers this. */
export interface Discovery {
  engine: { name: string | null; state: string };
  endpoints: { controller: string; endpoint: string; path: string }[];
}

export function formatDiscovery(discovery: Discovery): string {
  const { engine, endpoints } = discovery;
  const rows = endpoints.map((e) => [e.controller, e.endpoint, e.path]);
  return `engine: ${engine.name ?? 'none'} (${engine.state})\n` + formatTable(['CONTROLLER', 'ENDPOINT', 'PATH'], rows);
}

export const endpointsCommand: Command = {
  name: 'endpoints',
  summary: "list the gateway's passthrough endpoints (discovery)",
  usage: `Usage: enginegate endpoints [OPTIONS]

Lists the endpoints the gateway serves under /passthrough, and its active engine.

Options:
      --json         print the gateway's JSON instead of a table

${CLIENT_OPTIONS_USAGE}`,

  async run(argv, context) {
    const { values, positionals } = parseCommandLine('endpoints', argv, OPTIONS);
    if (values.help) return printUsage(context, this.usage);
    expectPositionals('endpoints', positionals, []);
    const client = await createClient(values, context);
    const discovery = await client.getJson<Discovery>('/passthrough');
    if (!discovery || typeof discovery !== 'object' || !Array.isArray(discovery.endpoints) || !discovery.engine) {
      throw new CliError(
        `the gateway at ${client.address.display} sent a discovery document without engine and endpoints`,
      );
    }
    context.stdout.write(values.json ? `${JSON.stringify(discovery, null, 2)}\n` : formatDiscovery(discovery));
    return 0;
  },
};
