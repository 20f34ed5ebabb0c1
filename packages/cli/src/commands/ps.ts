import type { ContainerInfo } from '@enginegate/plugin-api';
import { validateNamespace } from '@enginegate/plugin-api';
import type { SwarmView } from '@enginegate/plugin-moby';
import { CliError, GatewayResponseError } from '../cli-errors.js';
import {
  CLIENT_OPTIONS,
  CLIENT_OPTIONS_USAGE,
  createClient,
  expectPositionals,
  parseCommandLine,
  printUsage,
  type Command,
  type CommandContext,
} from '../command-line.js';
import type { GatewayClient } from '../gateway-client.js';
import { formatTable } from '../text-table.js';
import { formatServicesTable } from './services-table.js';

const OPTIONS = {
  ...CLIENT_OPTIONS,
  all: { type: 'boolean', short: 'a' },
  namespace: { type: 'string' },
  json: { type: 'boolean' },
  services: { type: 'boolean' },
} as const;

/** Docker shows IDs cut to 12 characters. */
const SHORT_ID_LENGTH = 12;

/** The `enginegate ps` table; running containers only unless `all`. */
export function formatContainerTable(containers: ContainerInfo[], options: { all: boolean }): string {
  const shown = options.all ? containers : containers.filter((c) => c.state === 'running');
  const withNamespace = shown.some((c) => c.namespace !== undefined && c.namespace !== '');
  const header = ['CONTAINER ID', 'IMAGE', 'STATE', 'NAMES', ...(withNamespace ? ['NAMESPACE'] : [])];
  const rows = shown.map((c) => [
    c.id.slice(0, SHORT_ID_LENGTH),
    c.image,
    c.state,
    c.names.map((name) => name.replace(/^\//, '')).join(','),
    ...(withNamespace ? [c.namespace ?? ''] : []),
  ]);
  return formatTable(header, rows);
}

export const psCommand: Command = {
  name: 'ps',
  summary: "list the active engine's containers",
  usage: `Usage: enginegate ps [OPTIONS]

Lists the containers of the gateway's active engine, as \`docker ps\` does.

Options:
  -a, --all          show every container (default: running ones only)
      --namespace NS containerd namespace to list
      --services     the Docker Swarm services and their tasks (moby on a swarm manager),
                     as \`docker service ls\` and \`docker service ps\` list them
      --json         print the gateway's JSON instead of a table

${CLIENT_OPTIONS_USAGE}`,

  async run(argv, context) {
    const { values, positionals } = parseCommandLine('ps', argv, OPTIONS);
    if (values.help) return printUsage(context, this.usage);
    expectPositionals('ps', positionals, []);
    if (values.services) return printServices(await createClient(values, context), values, context);
    let path = '/passthrough/engine/containers';
    if (values.namespace !== undefined) {
      try {
        validateNamespace(values.namespace);
      } catch (err) {
        throw new CliError(`${(err as Error).message} (INVALID_ARGUMENT)`);
      }
      path += `?namespace=${encodeURIComponent(values.namespace)}`;
    }
    const client = await createClient(values, context);
    const containers = await client.getJson<ContainerInfo[]>(path);
    if (!Array.isArray(containers)) {
      throw new CliError(`the gateway at ${client.address.display} sent a container list that is not a JSON array`);
    }
    context.stdout.write(
      values.json
        ? `${JSON.stringify(containers, null, 2)}\n`
        : formatContainerTable(containers, { all: values.all ?? false }),
    );
    return 0;
  },
};

async function printServices(
  client: GatewayClient,
  values: { all?: boolean; json?: boolean },
  context: CommandContext,
): Promise<number> {
  let view: SwarmView;
  try {
    view = await client.getJson<SwarmView>('/passthrough/moby/services');
  } catch (err) {
    if (err instanceof GatewayResponseError && err.code === 'NOT_FOUND') {
      throw new CliError('the active engine has no services: --services needs the moby engine');
    }
    throw err;
  }
  if (values.json) {
    context.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return 0;
  }
  if (view.role !== 'manager') {
    const what = view.role === 'worker' ? 'a swarm worker (only managers list services)' : 'not in a swarm';
    throw new CliError(`the Docker daemon of the moby engine is ${what}`);
  }
  context.stdout.write(formatServicesTable(view, { all: values.all ?? false }));
  return 0;
}
