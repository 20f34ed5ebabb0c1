import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import mockPlugin from '@enginegate/plugin-mock';
import type { EnginePlugin, PassthroughEndpoint } from '@enginegate/plugin-api';
import { asFunction, asValue, createContainer, InjectionMode, type AwilixContainer } from 'awilix';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { AccessControl } from './access-control.js';
import { EngineManager, type EngineChange } from './engine-manager.js';
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './gateway-options.js';
import { installErrorHandling } from './http-errors.js';
import { Heartbeat } from './logs/heartbeat.js';
import { CLOSE } from './logs/log-stream.js';
import { LogStreamRegistry } from './logs/log-stream-registry.js';
import { GatewayMetrics } from './metrics.js';
import { PassthroughRegistry } from './passthrough-registry.js';
import { describePluginSpec, PluginLoader, type PluginLoadError } from './plugin-loader.js';
import { registerEngineRoutes } from './routes/engine-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { LogsRoute } from './routes/logs-route.js';
import { registerPassthroughRoutes } from './routes/passthrough-routes.js';
import { registerViewerRoutes } from './routes/viewer-routes.js';
import { defaultStateDir, generateToken, writeTokenFile } from './state-dir.js';

/** Client messages are read and discarded; a bigger one closes the socket 1009. */
const MAX_CLIENT_MESSAGE_BYTES = 4096;
/** JSON bodies (PUT /engine) are tiny. */
const BODY_LIMIT_BYTES = 16 * 1024;
/** After 1001, how long clients get to answer the close handshake before their sockets are cut. */
const CLOSE_HANDSHAKE_GRACE_MS = 1000;

/** What the container holds; each gateway has its own. */
interface GatewayCradle {
  gatewayOptions: ResolvedGatewayOptions;
  logger: FastifyBaseLogger;
  engines: EngineManager;
  streams: LogStreamRegistry;
  metrics: GatewayMetrics;
  passthroughs: PassthroughRegistry;
  pluginLoader: PluginLoader;
  heartbeat: Heartbeat;
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly container: AwilixContainer<GatewayCradle>;
  readonly engines: EngineManager;
  /** null with `noAuth`. */
  readonly token: string | null;
  /** Where a generated token was written; null when the token was given (or noAuth). */
  readonly tokenFile: string | null;
  /** Set by `listen()`: `http://host:port`, or `unix:/path` for a socket. */
  readonly url: string | null;
  /** Open log streams (WebSocket and HTTP). */
  readonly openStreams: number;
  /** Every served route, as fastify registered it (`/a/:b`). */
  readonly routes: ReadonlyArray<{ method: string; url: string }>;
  /** Plugins that failed to load (each also logged at error). */
  readonly pluginErrors: readonly PluginLoadError[];
  listen(): Promise<string>;
  /** Closes every open stream with 1001, stops the engine, closes the server. */
  close(): Promise<void>;
}

function loggerOption(options: GatewayOptions): boolean | object {
  const level = options.logLevel ?? process.env.ENGINEGATE_LOG_LEVEL ?? 'info';
  if (options.logger === undefined || options.logger === true) return { level };
  return options.logger;
}

function resolveToken(
  options: GatewayOptions,
  resolved: ResolvedGatewayOptions,
): { token: string | null; tokenFile: string | null } {
  if (resolved.noAuth) return { token: null, tokenFile: null };
  if (options.token === '') throw new Error('token must not be empty');
  const given = options.token ?? process.env.ENGINEGATE_TOKEN;
  if (given) return { token: given, tokenFile: null };
  const token = generateToken();
  return { token, tokenFile: writeTokenFile(resolved.stateDir, token) };
}

/** The origins a browser page served by this gateway would send. */
function ownOrigins(host: string, port: number): string[] {
  const origins = [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`];
  if (host !== '0.0.0.0' && host !== '::') origins.push(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  return origins;
}

/** A socket file left by a gateway that died is removed; one that still answers is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    if (!(await lstat(path)).isSocket()) throw new Error(`${path} exists and is not a socket`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const answers = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answers) throw new Error(`another process is listening on ${path}`);
  await unlink(path);
}

class GatewayInstance implements Gateway {
  url: string | null = null;
  readonly routes: Array<{ method: string; url: string }> = [];
  readonly pluginErrors: PluginLoadError[] = [];
  private allowedOrigins = new Set<string>();
  private closing: Promise<void> | undefined;

  constructor(
    readonly app: FastifyInstance,
    readonly container: AwilixContainer<GatewayCradle>,
    readonly token: string | null,
    readonly tokenFile: string | null,
    private readonly options: ResolvedGatewayOptions,
  ) {
    this.setAllowedOrigins([]);
  }

  get engines(): EngineManager {
    return this.container.cradle.engines;
  }

  get openStreams(): number {
    return this.container.cradle.streams.size;
  }

  get origins(): ReadonlySet<string> {
    return this.allowedOrigins;
  }

  setAllowedOrigins(own: string[]): void {
    const normalise = (origin: string) => origin.replace(/\/+$/, '');
    this.allowedOrigins = new Set([...own, ...(this.options.allowedOrigins ?? [])].map(normalise));
  }

  async listen(): Promise<string> {
    const { socket, host, port } = this.options;
    if (socket !== undefined) {
      await removeStaleSocket(socket);
      await this.app.listen({ path: socket });
      await chmod(socket, 0o600);
      this.url = `unix:${socket}`;
    } else {
      await this.app.listen({ host, port });
      const address = this.app.server.address() as AddressInfo;
      this.setAllowedOrigins(ownOrigins(host, address.port));
      this.url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    }
    this.app.log.info({ url: this.url }, 'enginegate listening');
    return this.url;
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const { streams, engines } = this.container.cradle;
    streams.stopAll(CLOSE.goingAway, 'the gateway is shutting down');
    await streams.whenEmpty(CLOSE_HANDSHAKE_GRACE_MS);
    await this.closeWebSockets();
    await engines.close();
    await this.app.close();
    await this.container.dispose();
    if (this.options.socket !== undefined && this.url !== null)
      await unlink(this.options.socket).catch(() => undefined);
  }

  /** Waits briefly for clients to answer the close handshake, then cuts whoever has not. */
  private async closeWebSockets(): Promise<void> {
    const clients = [...this.app.websocketServer.clients];
    await Promise.race([
      Promise.all(
        clients.map((ws) =>
          ws.readyState === ws.CLOSED ? Promise.resolve() : new Promise((resolve) => ws.once('close', resolve)),
        ),
      ),
      new Promise((resolve) => setTimeout(resolve, CLOSE_HANDSHAKE_GRACE_MS).unref()),
    ]);
    for (const ws of this.app.websocketServer.clients) ws.terminate();
  }
}

/**
 * Builds a gateway: its own awilix container, fastify app, plugins and engine manager. Two
 * gateways in one process share nothing. The initial engine is started before this resolves
 * (an engine slow to start is left 'starting'); `listen()` opens the port.
 */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const resolved = resolveGatewayOptions(options, defaultStateDir());
  const { token, tokenFile } = resolveToken(options, resolved);

  const app = Fastify({
    logger: loggerOption(options),
    // Per-request lines would drown the log; failures log themselves (see installErrorHandling).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // Container references may be 255 bytes; longer ones must reach the validator (a 400), not a 404.
    routerOptions: { maxParamLength: 1024 },
    forceCloseConnections: true,
  });

  const container = createContainer<GatewayCradle>({ injectionMode: InjectionMode.PROXY, strict: true });
  container.register({
    gatewayOptions: asValue(resolved),
    logger: asValue(app.log),
    pluginLoader: asFunction(() => new PluginLoader()).singleton(),
    engines: asFunction(
      ({ logger, gatewayOptions }: GatewayCradle) =>
        new EngineManager({
          container,
          logger,
          pluginConfig: gatewayOptions.pluginConfig,
          healthIntervalMs: gatewayOptions.healthIntervalMs,
        }),
    ).singleton(),
    streams: asFunction(() => new LogStreamRegistry()).singleton(),
    metrics: asFunction(({ streams }: GatewayCradle) => new GatewayMetrics(() => streams.size)).singleton(),
    passthroughs: asFunction(({ logger }: GatewayCradle) => new PassthroughRegistry(logger)).singleton(),
    heartbeat: asFunction(
      ({ gatewayOptions, logger }: GatewayCradle) =>
        new Heartbeat(gatewayOptions.pingIntervalMs, (ws: WebSocket) => {
          logger.debug('log stream client silent for two ping intervals: dropped');
          ws.terminate();
        }),
    ).singleton(),
  });
  const gateway = new GatewayInstance(app, container, token, tokenFile, resolved);
  try {
    await setUp(gateway, resolved);
  } catch (err) {
    await app.close().catch(() => undefined);
    await container.dispose().catch(() => undefined);
    throw err;
  }
  return gateway;
}

async function setUp(gateway: GatewayInstance, resolved: ResolvedGatewayOptions): Promise<void> {
  const { app, container } = gateway;
  const { engines, streams, metrics, passthroughs, heartbeat, pluginLoader, logger } = container.cradle;
  const logsRoute = new LogsRoute({
    engines,
    streams,
    heartbeat,
    metrics,
    highWaterMark: resolved.highWaterMark,
    maxStreams: resolved.maxStreams,
  });

  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) gateway.routes.push({ method, url: route.url });
  });
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      perMessageDeflate: false,
      handleProtocols: (_offered, request) => logsRoute.selectedSubprotocol(request),
    },
    // A client vanishing mid-stream is ordinary; ws then closes the socket and the stream ends.
    errorHandler: (err, socket, request) => {
      request.log.debug({ err: err.message }, 'websocket error');
      socket.terminate();
    },
    preClose: (done) => {
      for (const ws of app.websocketServer.clients) ws.terminate();
      app.websocketServer.close(() => done());
    },
  });
  installErrorHandling(app);
  const accessControl = new AccessControl(gateway.token, () => gateway.origins);
  app.addHook('onRequest', async (request) => {
    if ((request.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    accessControl.check(request);
  });

  registerHealthRoutes(app, engines, metrics);
  registerEngineRoutes(app, engines);
  registerPassthroughRoutes(app, engines, passthroughs);
  logsRoute.register(app);
  registerViewerRoutes(app);

  engines.on('change', (change: EngineChange) => {
    streams.onEngineChange(change);
    metrics.setEngineState(change.name, change.state);
    const engine = change.name === null ? undefined : engines.engineNamed(change.name);
    let endpoints: PassthroughEndpoint[] = [];
    try {
      endpoints = engine?.passthroughs?.() ?? [];
    } catch (err) {
      logger.warn({ engine: change.name, err }, 'engine passthroughs() failed; its endpoints are not served');
    }
    passthroughs.setEngineEndpoints(change.name, endpoints);
    logger.info({ engine: change.name, state: change.state, reason: change.reason }, 'engine state');
  });

  await loadPlugins(gateway, pluginLoader, engines, resolved.plugins);
  await app.ready();

  if (resolved.engine !== null) {
    if (resolved.engine !== 'auto' && !engines.has(resolved.engine)) {
      throw new Error(
        `engine ${JSON.stringify(resolved.engine)} is not loaded; the loaded engines are ${engines.available().join(', ')} (or auto)`,
      );
    }
    await engines.use(resolved.engine);
  }
}

/** The mock plugin first (always built in), then the configured ones; a failure is logged and skipped. */
async function loadPlugins(
  gateway: GatewayInstance,
  loader: PluginLoader,
  engines: EngineManager,
  specs: ReadonlyArray<string | EnginePlugin>,
): Promise<void> {
  for (const spec of [mockPlugin as EnginePlugin, ...specs]) {
    const described = describePluginSpec(spec);
    try {
      const plugin = await loader.load(spec);
      if (plugin === mockPlugin && engines.has(plugin.name)) continue; // built in already
      await engines.addPlugin(described, plugin);
      gateway.app.log.debug({ plugin: described, engine: plugin.name }, 'plugin loaded');
    } catch (err) {
      gateway.pluginErrors.push(err as PluginLoadError);
      gateway.app.log.error({ plugin: described, err: (err as Error).message }, 'plugin failed to load; skipped');
    }
  }
}

/**
 * `createGateway` + `listen`, and SIGTERM/SIGINT close it (streams get 1001) and exit; a close
 * that takes longer than 5 s is cut short.
 */
export async function runGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const gateway = await createGateway(options);
  await gateway.listen();
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    gateway.app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      gateway.app.log.error('shutdown took longer than 5 s; exiting anyway');
      process.exit(1);
    }, 5000);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        gateway.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return gateway;
}
