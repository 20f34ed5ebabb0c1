import {
  NS_PER_S,
  parseTimeParam,
  validateContainerRef,
  validateNamespace,
  type UnixNanos,
} from '@enginegate/plugin-api';
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
import { followLogs } from '../log-follower.js';
import { MemberPrefixes } from '../member-prefixes.js';

const OPTIONS = {
  ...CLIENT_OPTIONS,
  follow: { type: 'boolean', short: 'f' },
  tail: { type: 'string', short: 'n' },
  since: { type: 'string' },
  until: { type: 'string' },
  timestamps: { type: 'boolean', short: 't' },
  namespace: { type: 'string' },
  'no-stdout': { type: 'boolean' },
  'no-stderr': { type: 'boolean' },
  label: { type: 'string', multiple: true },
  project: { type: 'string' },
  service: { type: 'string' },
  pod: { type: 'string' },
  all: { type: 'boolean' },
  'no-color': { type: 'boolean' },
} as const;

export interface LogsArguments {
  container: string;
  follow: boolean;
  tail?: string;
  since?: string;
  until?: string;
  timestamps: boolean;
  namespace?: string;
  stdout: boolean;
  stderr: boolean;
}

/**
 * The query of the first request. `since`/`until` are sent as absolute Unix times: a duration
 * (`10m`) means "before now", and a reconnect must not move that point.
 */
export function buildLogsQuery(args: LogsArguments, now?: UnixNanos): URLSearchParams {
  const query = new URLSearchParams();
  // The gateway's default is follow=true; `docker logs` defaults to false, so always say which.
  query.set('follow', String(args.follow));
  if (args.tail !== undefined) query.set('tail', args.tail);
  if (args.since !== undefined) query.set('since', unixSeconds(parseTimeParam('since', args.since, now)));
  if (args.until !== undefined) query.set('until', unixSeconds(parseTimeParam('until', args.until, now)));
  if (args.namespace !== undefined) query.set('namespace', args.namespace);
  if (!args.stdout) query.set('stdout', 'false');
  if (!args.stderr) query.set('stderr', 'false');
  return query;
}

/** `1704207845.123456789`: exact to the nanosecond, a form the gateway's time parameters accept. */
function unixSeconds(ns: UnixNanos): string {
  const whole = ns / NS_PER_S;
  const frac = ns % NS_PER_S;
  if (ns < 0n) throw new CliError('times before 1970 are not supported');
  return `${whole}.${frac.toString().padStart(9, '0')}`;
}

export const logsCommand: Command = {
  name: 'logs',
  summary: 'print the logs of a container (like `docker logs`), or of several as one stream',
  usage: `Usage: enginegate logs [OPTIONS] CONTAINER [CONTAINER...]
       enginegate logs [OPTIONS] --label K=V | --project NAME | --service NAME | --pod NAME | --all

Prints a container's logs as \`docker logs\` does: its stdout lines on stdout, its stderr lines
on stderr, byte for byte. CONTAINER is a name, a full ID or a unique ID prefix.

With several containers, --label, --project, --service, --pod or --all, prints them as one
stream like \`docker compose logs\`: in time order, each line prefixed with its container's name and " | "
(coloured per container on a terminal); with -f, containers that start later and match join.
With --service, the tasks of a Docker Swarm service, each named task@node as
\`docker service logs\` names them; tasks that are scaled up or replaced join. With --pod,
the containers of a Podman pod (not its infra container, which writes nothing); containers
added to the pod later join.

Options:
  -f, --follow       keep printing new lines until the container stops
  -n, --tail N|all   only the last N lines (default all)
      --since T      lines at or after T: RFC3339 (2024-01-02T15:04:05Z), Unix seconds,
                     or a duration before now (10m, 1h30m)
      --until T      lines at or before T (same forms)
  -t, --timestamps   prefix each line with its time (2006-01-02T15:04:05.000000000Z)
      --namespace NS containerd namespace to look in
      --no-stdout    leave out the stdout lines
      --no-stderr    leave out the stderr lines
      --label K[=V]  the containers with this label (repeatable: all must match)
      --project NAME the containers of this Compose project
      --service NAME the tasks of this Swarm service (moby on a swarm manager)
      --pod NAME     the containers of this Podman pod (name or ID)
      --all          every container
      --no-color     no colours in the name prefixes

When the gateway's engine is switched or lost, the command reconnects and resumes right after
the last line it printed: no line is repeated or lost.

${CLIENT_OPTIONS_USAGE}`,

  async run(argv, context) {
    const { values, positionals } = parseCommandLine('logs', argv, OPTIONS);
    if (values.help) return printUsage(context, this.usage);
    const selected =
      values.label !== undefined ||
      values.project !== undefined ||
      values.service !== undefined ||
      values.pod !== undefined ||
      values.all === true;
    if (!selected || positionals.length > 0) expectPositionals('logs', positionals.slice(0, 1), ['CONTAINER']);
    if (selected && positionals.length > 0)
      throw new CliError('name containers, or use --label/--project/--service/--pod/--all, not both');
    const merged = selected || positionals.length > 1;
    const args: LogsArguments = {
      container: positionals[0] ?? '',
      follow: values.follow ?? false,
      tail: values.tail,
      since: values.since,
      until: values.until,
      timestamps: values.timestamps ?? false,
      namespace: values.namespace === undefined ? undefined : checked(() => validateNamespace(values.namespace)),
      stdout: !values['no-stdout'],
      stderr: !values['no-stderr'],
    };
    for (const ref of positionals) checked(() => validateContainerRef(ref));
    const query = checked(() => buildLogsQuery(args));
    if (merged) {
      for (const ref of selected ? [] : positionals) query.append('container', ref);
      for (const label of values.label ?? []) query.append('label', label);
      if (values.project !== undefined) query.set('project', values.project);
      if (values.service !== undefined) query.set('service', values.service);
      if (values.pod !== undefined) query.set('pod', values.pod);
      if (values.all === true) query.set('all', 'true');
    }
    const colour = (context.stdout as { isTTY?: boolean }).isTTY === true && !values['no-color'];
    const client = await createClient(values, context);
    await followLogs({
      client,
      container: merged ? undefined : args.container,
      ...(merged && { prefixes: new MemberPrefixes(colour) }),
      query,
      stdout: context.stdout,
      stderr: context.stderr,
      timestamps: args.timestamps,
      signal: context.signal,
      // Say why the output paused, but only to a person: a script's stderr is the container's.
      onReconnect: (context.stderr as { isTTY?: boolean }).isTTY
        ? (why) => context.stderr.write(`enginegate: ${why}; reconnecting...\n`)
        : undefined,
    });
    return 0;
  },
};

/** Runs a plugin-api validation; its error becomes a one-line CliError naming the code. */
function checked<T>(validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    if (err instanceof CliError) throw err;
    const { code, message } = err as { code?: string; message?: string };
    throw new CliError(code ? `${message} (${code})` : String(message ?? err));
  }
}
