import {
  CLIENT_OPTIONS,
  CLIENT_OPTIONS_USAGE,
  createClient,
  expectPositionals,
  parseCommandLine,
  printUsage,
  type Command,
} from '../command-line.js';
import { followEvents } from '../events-follower.js';

const OPTIONS = { ...CLIENT_OPTIONS, json: { type: 'boolean' } } as const;

export const eventsCommand: Command = {
  name: 'events',
  summary: "print the active engine's container events as they come",
  usage: `Usage: enginegate events [OPTIONS]

Prints what happens to the active engine's containers, as it happens, like \`docker events\`:
  TIME container ACTION ID (name=NAME, image=IMAGE[, exitCode=N])
ACTION is create, start, die, stop, rename, update or destroy. Runs until interrupted; after an
engine switch it follows the new engine's events.

Options:
      --json         NDJSON of the gateway's records instead: first a "present" record per
                     container and {"type":"synced"}, then the events (again after a switch)

${CLIENT_OPTIONS_USAGE}`,

  async run(argv, context) {
    const { values, positionals } = parseCommandLine('events', argv, OPTIONS);
    if (values.help) return printUsage(context, this.usage);
    expectPositionals('events', positionals, []);
    const client = await createClient(values, context);
    await followEvents({
      client,
      stdout: context.stdout,
      json: values.json ?? false,
      ...(context.signal ? { signal: context.signal } : {}),
      onReconnect: (why) => context.stderr.write(`enginegate: ${why}; reconnecting...\n`),
    });
    return 0;
  },
};
