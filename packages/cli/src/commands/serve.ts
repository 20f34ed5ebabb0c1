import { resolve as resolvePath } from 'node:path';
import { UsageError } from '../cli-errors.js';
import { mergePluginConfig, parsePluginConfigFlags, readConfigFile } from '../plugin-config-flags.js';
import { CLI_INSTALL_DIR, importBundledPlugins, resolvePluginSpecifier } from '../plugin-specs.js';
import { parseCommandLine, printUsage, type Command, type OptionValues } from '../command-line.js';
import type { GatewayOptions } from '@enginegate/gateway';
import { GatewayClient, parseGatewayAddress } from '../gateway-client.js';
import { type EngineStatus } from './engine.js';
import { describeEngineSettings, listEngines } from '../settings-help.js';

const OPTIONS = {
  engine: { type: 'string' },
  listen: { type: 'string' },
  socket: { type: 'string' },
  plugin: { type: 'string', multiple: true },
  'plugin-config': { type: 'string', multiple: true },
  config: { type: 'string' },
  token: { type: 'string' },
  'no-auth': { type: 'boolean' },
  'allow-origin': { type: 'string', multiple: true },
  'allow-host': { type: 'string', multiple: true },
  'state-dir': { type: 'string' },
  'docker-socket': { type: 'string' },
  'containerd-address': { type: 'string' },
  'podman-socket': { type: 'string' },
  'log-root': { type: 'string', multiple: true },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 7070;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
/** How long the banner waits for an engine that is still starting before it says so. */
const ENGINE_SETTLE_MS = 5000;

/** `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `HOST` (port 7070). */
export function parseListenAddress(text: string): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if (text.split(':').length > 2) {
    throw new UsageError(`--listen ${text}: write an IPv6 address in brackets, e.g. [::1]:${DEFAULT_PORT}`);
  } else {
    const colon = text.lastIndexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    portText = colon === -1 ? undefined : text.slice(colon + 1);
  }
  if (host === '') host = DEFAULT_HOST;
  if (portText === undefined) return { host, port: DEFAULT_PORT };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535))
    throw new UsageError(`--listen ${text}: the port must be a number from 0 to 65535`);
  return { host, port };
}

/** `DOCKER_HOST=unix:///var/run/docker.sock` → the socket path; other schemes pass unchanged. */
export function dockerSocketFromEnv(dockerHost: string | undefined): string | undefined {
  if (!dockerHost) return undefined;
  return dockerHost.startsWith('unix://') ? dockerHost.slice('unix://'.length) : dockerHost;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the gateway',
  usage: `Usage: enginegate serve [OPTIONS]

Runs the gateway: serves the logs of the active engine's containers over WebSocket and HTTP.

Options:
  --engine auto|moby|containerd|podman|mock
                         the engine to start (default auto: moby if the Docker socket
                         answers, else containerd, else podman, else mock)
  --listen HOST:PORT     where to listen (default ${DEFAULT_HOST}:${DEFAULT_PORT})
  --socket PATH          listen on a unix socket instead (mode 0600)
  --plugin NAME_OR_PATH  load another engine plugin (repeatable): a file, a folder (its
                         package.json exports/main) or a package name, looked up from the
                         working directory, then from enginegate's own install; one named
                         like a built-in engine replaces it
  --plugin-config NAME.KEY=VALUE
                         a setting of the plugin NAME (repeatable); over
                         ENGINEGATE_<NAME>_<KEY>, over --config's; each engine's settings
                         are listed below (with --plugin, that plugin's too)
  --config FILE          JSON: {"plugins": {"NAME": {"KEY": VALUE}}}
  --token T              the access token (env ENGINEGATE_TOKEN; default: generate one and
                         write it, mode 0600, to the state directory)
  --no-auth              no token (development only; refused on a non-loopback address)
  --allow-origin ORIGIN  also accept browser requests from ORIGIN (repeatable)
  --allow-host NAME      also accept requests whose Host header is NAME (repeatable; loopback
                         names and the listen address always are: DNS rebinding protection)
  --state-dir DIR        where the token file goes (env ENGINEGATE_STATE_DIR; default
                         $XDG_STATE_HOME/enginegate or ~/.local/state/enginegate)
  --docker-socket PATH   the Docker socket (env DOCKER_HOST; default /var/run/docker.sock)
  --containerd-address PATH
                         the containerd socket (env CONTAINERD_ADDRESS;
                         default /run/containerd/containerd.sock)
  --podman-socket PATH   the Podman service's socket (env CONTAINER_HOST, unix:///PATH;
                         default /run/podman/podman.sock)
  --log-root DIR         containerd log files are read only below these (repeatable;
                         default /var/lib/nerdctl and /var/log)
  --log-level LEVEL      ${LOG_LEVELS.join(', ')} (env ENGINEGATE_LOG_LEVEL; default info)

SIGTERM or SIGINT stops the gateway: open streams close with 1001.`,

  async run(argv, context) {
    const { values, positionals } = parseCommandLine('serve', argv, OPTIONS);
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (see \`enginegate serve --help\`)`);
    const { env, cwd } = context;
    const plugins = (values.plugin ?? []).map((p) => resolvePluginSpecifier(p, cwd));
    if (values.help) {
      const { engines, problems } = await listEngines(await importBundledPlugins(), plugins, cwd, [
        cwd,
        CLI_INSTALL_DIR,
      ]);
      return printUsage(context, `${this.usage}\n\n${describeEngineSettings(engines, problems)}`);
    }
    if (values.listen !== undefined && values.socket !== undefined) {
      throw new UsageError('--listen and --socket exclude each other');
    }
    const logLevel = values['log-level'] ?? env.ENGINEGATE_LOG_LEVEL ?? 'info';
    if (!LOG_LEVELS.includes(logLevel))
      throw new UsageError(`--log-level ${logLevel}: use one of ${LOG_LEVELS.join(', ')}`);
    const listen =
      values.listen === undefined ? { host: DEFAULT_HOST, port: DEFAULT_PORT } : parseListenAddress(values.listen);
    const tokenFromEnv = values.token === undefined && env.ENGINEGATE_TOKEN ? env.ENGINEGATE_TOKEN : undefined;
    const token = values.token ?? tokenFromEnv;

    const { runGateway } = await import('@enginegate/gateway');
    const gateway = await runGateway({
      ...(values.socket !== undefined ? { socket: resolvePath(cwd, values.socket) } : listen),
      token,
      noAuth: values['no-auth'] ?? false,
      stateDir: values['state-dir'],
      allowedOrigins: values['allow-origin'],
      builtinPlugins: await importBundledPlugins(),
      allowedHosts: values['allow-host'],
      plugins,
      pluginSearchPaths: [cwd, CLI_INSTALL_DIR],
      engine: values.engine ?? 'auto',
      ...pluginSettings(values, env, cwd),
      logLevel,
    });

    const tokenOrigin = values['no-auth']
      ? 'none (--no-auth)'
      : values.token !== undefined
        ? 'from --token'
        : tokenFromEnv !== undefined
          ? 'from ENGINEGATE_TOKEN'
          : (gateway.tokenFile ?? 'unknown');
    const engine = await settledEngineStatus(gateway.url!, gateway.token, tokenOrigin);
    context.stderr.write(
      startBanner({
        url: gateway.url!,
        viewerUrl: viewerLink(gateway.url!, gateway.token),
        engine,
        tokenFile: gateway.tokenFile ?? undefined,
        tokenOrigin,
        stateDir: values['state-dir'],
        command: clientCommand(env),
      }),
    );
    // The gateway keeps the process alive; runGateway's SIGTERM/SIGINT handlers end it.
    return 0;
  },
};

/** The plugins' settings: --plugin-config and the engines' own flags, then the environment and --config's. */
function pluginSettings(
  values: OptionValues<typeof OPTIONS>,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Pick<GatewayOptions, 'pluginConfig' | 'pluginSettingSources'> {
  const dockerSocket = values['docker-socket'] ?? dockerSocketFromEnv(env.DOCKER_HOST);
  const containerdAddress = values['containerd-address'] ?? (env.CONTAINERD_ADDRESS || undefined);
  // Without --podman-socket the plugin reads CONTAINER_HOST itself, as Podman's clients do.
  const podmanSocket = values['podman-socket'];
  return {
    pluginConfig: mergePluginConfig(parsePluginConfigFlags(values['plugin-config'] ?? []), {
      // The engines' own flags stay, as aliases of --plugin-config.
      moby: definedOnly({ dockerSocket }),
      containerd: definedOnly({ address: containerdAddress, logRoots: values['log-root'] }),
      podman: definedOnly({ podmanSocket }),
    }),
    pluginSettingSources: {
      env,
      ...(values.config !== undefined ? { file: readConfigFile(resolvePath(cwd, values.config)) } : {}),
    },
  };
}

/** Leaves out the settings not given, so that the plugin's own defaults apply. */
function definedOnly(settings: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/** The engine as a client would see it, once `auto` has picked one (or ENGINE_SETTLE_MS passed). */
async function settledEngineStatus(
  url: string,
  token: string | null,
  tokenOrigin: string,
): Promise<EngineStatus | undefined> {
  const client = new GatewayClient(parseGatewayAddress(url), { token: token ?? undefined, origin: tokenOrigin });
  const deadline = Date.now() + ENGINE_SETTLE_MS;
  for (;;) {
    let status: EngineStatus;
    try {
      status = await client.getJson<EngineStatus>('/engine');
    } catch {
      return undefined;
    }
    if (status.state !== 'starting' || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * How the user can run the client commands the banner suggests: under npm (`npm start`, an npm
 * script, `npx enginegate serve`) the `enginegate` bin is in node_modules/.bin, not on PATH, so
 * the hints say `npx enginegate`; otherwise (a global install) the bare name.
 */
export function clientCommand(env: NodeJS.ProcessEnv): string {
  return env.npm_command !== undefined ? 'npx enginegate' : 'enginegate';
}

/**
 * The viewer's address with the token in the fragment (`/#token=…`): a fragment is never sent to
 * the server, so the token stays out of request lines and logs; the page moves it into
 * sessionStorage. A unix socket has no address a browser can open.
 */
export function viewerLink(url: string, token: string | null): string | undefined {
  if (!url.startsWith('http://')) return undefined;
  return token === null ? `${url}/` : `${url}/#token=${encodeURIComponent(token)}`;
}

export interface StartBannerFacts {
  url: string;
  /** The viewer's link (see viewerLink), when a browser can open it. */
  viewerUrl?: string | undefined;
  engine: EngineStatus | undefined;
  /** The token file, when the token is in one. */
  tokenFile: string | undefined;
  /** Where the token is, in words. */
  tokenOrigin: string;
  stateDir: string | undefined;
  /** How to run the CLI where the banner is read (`clientCommand`); default `enginegate`. */
  command?: string;
}

/** What `serve` prints once it listens: where, which engine, where the token is, what to try. */
export function startBanner(facts: StartBannerFacts): string {
  const { url, viewerUrl, engine, tokenFile, tokenOrigin, stateDir, command = 'enginegate' } = facts;
  const address = parseGatewayAddress(url);
  const engineText = engine ? `${engine.name ?? 'none'} (${engine.state})` : 'unknown';
  const example = engine?.name === 'mock' ? 'mock-chatty' : 'CONTAINER';
  const clientFlags = [
    url === 'http://127.0.0.1:7070' ? '' : ` --url ${url}`,
    stateDir !== undefined && tokenFile !== undefined ? ` --state-dir ${shellQuote(stateDir)}` : '',
  ].join('');
  const bearer =
    tokenFile !== undefined
      ? ` -H "Authorization: Bearer $(cat ${shellQuote(tokenFile)})"`
      : tokenOrigin === 'none (--no-auth)'
        ? ''
        : ' -H "Authorization: Bearer $ENGINEGATE_TOKEN"';
  const curlTarget =
    address.socketPath !== undefined
      ? `--unix-socket ${shellQuote(address.socketPath)} http://localhost/passthrough/engine/logs/${example}`
      : `${url}/passthrough/engine/logs/${example}`;
  return [
    `enginegate: listening on ${url}`,
    `enginegate: engine ${engineText}`,
    `enginegate: token ${tokenFile !== undefined ? `in ${tokenFile}` : tokenOrigin}`,
    ...(viewerUrl !== undefined ? [`enginegate: viewer ${viewerUrl}`] : []),
    'Try:',
    ...(tokenOrigin === 'from --token' ? ['  export ENGINEGATE_TOKEN=...   # the token given to --token'] : []),
    ...(example === 'CONTAINER' ? [`  ${command} ps${clientFlags}`] : []),
    `  ${command} logs ${example} -f${clientFlags}`,
    `  curl -N${bearer} ${curlTarget}`,
    '  # it follows (follow=true is the default); add ?follow=false to print what is there and end',
    '',
  ].join('\n');
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
