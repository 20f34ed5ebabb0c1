import { isIP } from 'node:net';
import type { EnginePlugin } from '@enginegate/plugin-api';
import type { Resolver } from 'awilix';
import type { PluginSettingSources } from './plugin-settings.js';

export interface GatewayOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 7070; 0 picks a free port. */
  port?: number;
  /** Serve this unix socket (mode 0600) instead of host:port. */
  socket?: string;
  /** Else ENGINEGATE_TOKEN, else generated and written 0600 to `${stateDir}/token`. */
  token?: string;
  /** Development only: refused unless the gateway listens on loopback or a unix socket. */
  noAuth?: boolean;
  /** Default `defaultStateDir()`. */
  stateDir?: string;
  /** Origins a browser may call from; default the gateway's own (http://127.0.0.1:PORT, http://localhost:PORT). */
  allowedOrigins?: string[];
  /**
   * Plugins named by the user: package names, folders, files or plugin objects. One of these
   * replaces a built-in plugin of the same engine name; two of one name are an error.
   */
  plugins?: Array<string | EnginePlugin>;
  /**
   * The built-in plugins, loaded first; default none (the gateway depends on no plugin: the CLI
   * passes its four, a test the mock).
   */
  builtinPlugins?: Array<string | EnginePlugin>;
  /**
   * Where package names are looked up after the working directory (each folder's node_modules
   * and those above it); default the gateway's own install.
   */
  pluginSearchPaths?: string[];
  /** The engine to start with: a plugin name, 'auto' (default) or null (none). */
  engine?: string | null;
  /** Per plugin name, handed to its `register` as `PluginOptions.config` (over pluginSettingSources). */
  pluginConfig?: Record<string, Record<string, unknown>>;
  /**
   * Per plugin name, awilix registrations that replace services in that plugin's scope (the
   * gateway's, e.g. `clock`, and the plugin's own) before its engine is resolved.
   */
  pluginServices?: Record<string, Record<string, Resolver<unknown>>>;
  /** Lower layers of plugin settings: `ENGINEGATE_<NAME>_<KEY>` variables (for declared keys) and a file's. */
  pluginSettingSources?: PluginSettingSources;
  /** pino options for fastify, or false for silence. Default `{ level: logLevel }`. */
  logger?: boolean | object;
  /** Used when `logger` is not given; default `$ENGINEGATE_LOG_LEVEL`, else 'info'. */
  logLevel?: string;
  /** Engine health poll; default 2000. */
  healthIntervalMs?: number;
  /** WebSocket ping; a peer silent for two intervals is dropped. Default 30000. */
  pingIntervalMs?: number;
  /** Bytes buffered on a socket before the log source stops being pulled; default 1 MiB. */
  highWaterMark?: number;
  /** Open log streams beyond which a new one is refused (WebSocket close 1013); default 1024. */
  maxStreams?: number;
  /** How often the containers of an engine without events are listed for the events route; default 1000. */
  eventsPollIntervalMs?: number;
  /** Open streams from one client address beyond which a new one is refused; default 256. */
  maxStreamsPerClient?: number;
  /** Open connections beyond which a new one gets a 503 and is closed; default 2048. */
  maxConnections?: number;
  /** Open connections from one client address beyond which a new one is refused; default 512. */
  maxConnectionsPerClient?: number;
  /** The request line and headers must arrive within this; default 10000 (then a 408). */
  headersTimeoutMs?: number;
  /** The body must arrive within this after the headers; default 10000 (then a 408). */
  bodyTimeoutMs?: number;
  /** Names the `Host` header may carry besides loopback names and the listen address (DNS rebinding). */
  allowedHosts?: string[];
  /** Followers of one container share one engine stream for the live part; default true. */
  shareLiveTails?: boolean;
  /** Records a follower may lag behind a shared live tail before it reads on its own; default 10000. */
  followerQueueRecords?: number;
}

/** GatewayOptions with every default applied. */
export interface ResolvedGatewayOptions {
  host: string;
  port: number;
  socket: string | undefined;
  noAuth: boolean;
  stateDir: string;
  allowedOrigins: string[] | undefined;
  plugins: Array<string | EnginePlugin>;
  builtinPlugins: Array<string | EnginePlugin>;
  pluginSearchPaths: string[] | undefined;
  engine: string | null;
  pluginConfig: Record<string, Record<string, unknown>>;
  pluginSettingSources: PluginSettingSources;
  pluginServices: Record<string, Record<string, Resolver<unknown>>>;
  healthIntervalMs: number;
  pingIntervalMs: number;
  highWaterMark: number;
  maxStreams: number;
  eventsPollIntervalMs: number;
  maxStreamsPerClient: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  allowedHosts: string[];
  shareLiveTails: boolean;
  followerQueueRecords: number;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 7070;

export function resolveGatewayOptions(options: GatewayOptions, defaultStateDir: string): ResolvedGatewayOptions {
  const resolved: ResolvedGatewayOptions = {
    host: options.host ?? DEFAULT_HOST,
    port: options.port ?? DEFAULT_PORT,
    socket: options.socket,
    noAuth: options.noAuth ?? false,
    stateDir: options.stateDir ?? defaultStateDir,
    allowedOrigins: options.allowedOrigins,
    plugins: options.plugins ?? [],
    builtinPlugins: options.builtinPlugins ?? [],
    pluginSearchPaths: options.pluginSearchPaths,
    engine: options.engine === undefined ? 'auto' : options.engine,
    pluginConfig: options.pluginConfig ?? {},
    pluginSettingSources: options.pluginSettingSources ?? {},
    pluginServices: options.pluginServices ?? {},
    healthIntervalMs: positive('healthIntervalMs', options.healthIntervalMs ?? 2000),
    pingIntervalMs: positive('pingIntervalMs', options.pingIntervalMs ?? 30_000),
    highWaterMark: positive('highWaterMark', options.highWaterMark ?? 1024 * 1024),
    maxStreams: positive('maxStreams', options.maxStreams ?? 1024),
    eventsPollIntervalMs: positive('eventsPollIntervalMs', options.eventsPollIntervalMs ?? 1000),
    maxStreamsPerClient: positive('maxStreamsPerClient', options.maxStreamsPerClient ?? 256),
    maxConnections: positive('maxConnections', options.maxConnections ?? 2048),
    maxConnectionsPerClient: positive('maxConnectionsPerClient', options.maxConnectionsPerClient ?? 512),
    headersTimeoutMs: positive('headersTimeoutMs', options.headersTimeoutMs ?? 10_000),
    bodyTimeoutMs: positive('bodyTimeoutMs', options.bodyTimeoutMs ?? 10_000),
    allowedHosts: options.allowedHosts ?? [],
    shareLiveTails: options.shareLiveTails ?? true,
    followerQueueRecords: positive('followerQueueRecords', options.followerQueueRecords ?? 10_000),
  };
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    throw new Error(`port ${resolved.port} is not a TCP port (0-65535)`);
  }
  if (resolved.noAuth && resolved.socket === undefined && !isLoopbackHost(resolved.host)) {
    throw new Error(
      `--no-auth is for development only and is refused on ${resolved.host}: ` +
        'listen on a loopback address (127.0.0.1, ::1, localhost) or a unix socket, or use a token',
    );
  }
  return resolved;
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`${name} must be a number > 0, not ${value}`);
  return value;
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^::ffff:127\./i.test(bare);
  return false;
}
