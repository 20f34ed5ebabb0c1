import type { IncomingMessage } from 'node:http';
import fastifyWebsocket from '@fastify/websocket';
import type { PassthroughEndpoint } from '@enginegate/plugin-api';
import { asFunction, asValue, createContainer, InjectionMode, type AwilixContainer } from './awilix.js';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { AccessControl } from './access-control.js';
import { installCors } from './cors.js';
import { EngineManager, type EngineChange } from './engine-manager.js';
import { GatewayInstance, type GatewayCradle } from './gateway-instance.js';
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from './gateway-options.js';
import { answerClientError, answerConnect, answerFrameworkError, installErrorHandling } from './http-errors.js';
import { Heartbeat } from './logs/heartbeat.js';
import { LogStreamRegistry } from './logs/log-stream-registry.js';
import { SharedLiveTails } from './logs/shared-live-tails.js';
import { GatewayMetrics } from './metrics.js';
import { PassthroughRegistry } from './passthrough-registry.js';
import { PluginLoader, type PluginLoadError } from './plugin-loader.js';
import { loadPluginSet } from './plugin-set.js';
import { registerEngineRoutes } from './routes/engine-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { LogsRoute } from './routes/logs-route.js';
import { EventsRoute } from './routes/events-route.js';
import { EngineEvents } from './events/engine-events.js';
import { registerPassthroughRoutes } from './routes/passthrough-routes.js';
import { registerViewerRoutes } from './routes/viewer-routes.js';
import { defaultStateDir, generateToken, writeTokenFile } from './state-dir.js';
import { installServerLimits, serverLimitOptions } from './server-limits.js';
import { installWebSocketHandshakeCheck } from './websocket-handshake.js';
import { destroySocketsOnClose, refuseWhileShuttingDown, servePipelinedUpgrades } from './upgraded-sockets.js';

/** Client messages are read and discarded; a bigger one closes the socket 1009. */
const MAX_CLIENT_MESSAGE_BYTES = 4096;
/** JSON bodies (PUT /engine) are tiny. */
const BODY_LIMIT_BYTES = 16 * 1024;
import type { Gateway } from './gateway-instance.js';

export type { Gateway };

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
    // Requests during shutdown get the JSON 503 SHUTDOWN (below), not fastify's own body.
    return503OnClosing: false,
    // The router's and the HTTP parser's own refusals, in the JSON error shape.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    ...serverLimitOptions(resolved),
  });

  const container = createContainer<GatewayCradle>({ injectionMode: InjectionMode.PROXY, strict: true });
  container.register({
    gatewayOptions: asValue(resolved),
    logger: asValue(app.log),
    pluginLoader: asFunction(
      ({ gatewayOptions }: GatewayCradle) => new PluginLoader(process.cwd(), gatewayOptions.pluginSearchPaths),
    ).singleton(),
    engines: asFunction((cradle: GatewayCradle) => createEngineManager(container, cradle)).singleton(),
    streams: asFunction(
      ({ gatewayOptions }: GatewayCradle) => new LogStreamRegistry(gatewayOptions.maxStreamsPerClient),
    ).singleton(),
    liveTails: asFunction(
      ({ gatewayOptions }: GatewayCradle) =>
        new SharedLiveTails({
          enabled: gatewayOptions.shareLiveTails,
          maxQueuedRecords: gatewayOptions.followerQueueRecords,
        }),
    ).singleton(),
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

/** The engine manager: each plugin's scope is a child of the gateway's container; plugin metrics go to its registry. */
function createEngineManager(
  container: AwilixContainer<GatewayCradle>,
  { logger, gatewayOptions, metrics }: GatewayCradle,
): EngineManager {
  return new EngineManager({
    container,
    logger,
    pluginConfig: gatewayOptions.pluginConfig,
    pluginSettingSources: gatewayOptions.pluginSettingSources,
    pluginServices: gatewayOptions.pluginServices,
    metricsRegistry: metrics.registry,
    healthIntervalMs: gatewayOptions.healthIntervalMs,
  });
}

async function setUp(gateway: GatewayInstance, resolved: ResolvedGatewayOptions): Promise<void> {
  const { app, container } = gateway;
  const { engines, streams, metrics, passthroughs, heartbeat, logger, liveTails } = container.cradle;
  const streamLimits = { highWaterMark: resolved.highWaterMark, maxStreams: resolved.maxStreams };
  const engineEvents = new EngineEvents(logger, resolved.eventsPollIntervalMs);
  const logsRoute = new LogsRoute({
    engines,
    streams,
    liveTails,
    heartbeat,
    metrics,
    events: engineEvents,
    ...streamLimits,
  });
  const eventsRoute = new EventsRoute({ engines, events: engineEvents, streams, heartbeat, metrics, ...streamLimits });

  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) gateway.routes.push({ method, url: route.url });
  });
  await registerWebSocket(
    app,
    (request) => logsRoute.selectedSubprotocol(request) || eventsRoute.selectedSubprotocol(request),
  );
  installErrorHandling(app);
  app.server.on('connect', answerConnect.bind({ log: app.log }));
  refuseWhileShuttingDown(app, () => gateway.shuttingDown);
  installServerLimits(app, resolved);
  installWebSocketHandshakeCheck(app);
  installCors(app, () => gateway.origins);
  const accessControl = new AccessControl(gateway.token, () => gateway.origins);
  app.addHook('onRequest', async (request) => {
    if ((request.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    await accessControl.check(request);
  });

  registerHealthRoutes(app, engines, metrics);
  registerEngineRoutes(app, engines);
  registerPassthroughRoutes(app, engines, passthroughs);
  logsRoute.register(app);
  eventsRoute.register(app);
  registerViewerRoutes(app);

  followEngineChanges(container.cradle);
  // The registry closes the events streams (1012); the pollers' listings are stale.
  engines.on('change', () => engineEvents.closeAll());

  await loadPlugins(gateway, resolved);
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

/** @fastify/websocket with the routes' subprotocol choice; client messages stay small. */
async function registerWebSocket(
  app: FastifyInstance,
  selectedSubprotocol: (request: IncomingMessage) => string | false,
): Promise<void> {
  await app.register(fastifyWebsocket, {
    options: {
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
      perMessageDeflate: false,
      handleProtocols: (_offered, request) => selectedSubprotocol(request),
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
  servePipelinedUpgrades(app);
  destroySocketsOnClose(app);
}

/** An engine change closes or keeps streams, and sets the metrics and the passthrough endpoints. */
function followEngineChanges({ engines, streams, metrics, passthroughs, logger }: GatewayCradle): void {
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
}

/**
 * The built-in plugins (those the embedding program composes, e.g. the CLI's four; the gateway
 * has none of its own), then the named ones; a named plugin replaces a built-in of the same
 * name. A plugin that fails is logged and skipped.
 */
async function loadPlugins(gateway: GatewayInstance, resolved: ResolvedGatewayOptions): Promise<void> {
  const { pluginLoader, engines } = gateway.container.cradle;
  const log = gateway.app.log;
  const set = await loadPluginSet(pluginLoader, resolved.builtinPlugins, resolved.plugins);
  const refused = [...set.errors];
  for (const { builtin, by } of set.replaced) {
    log.info(
      { plugin: by.spec, replaces: builtin.spec, engine: by.plugin.name },
      'plugin replaces the built-in engine',
    );
  }
  for (const { spec, plugin, index } of set.chosen) {
    try {
      await engines.addPlugin(spec, plugin);
      log.debug({ plugin: spec, engine: plugin.name }, 'plugin loaded');
    } catch (err) {
      refused.push({ index, error: err as PluginLoadError });
    }
  }
  // Told in the order the plugins were given.
  for (const { error } of refused.sort((a, b) => a.index - b.index)) {
    gateway.pluginErrors.push(error);
    log.error({ plugin: error.spec, err: error.message }, 'plugin failed to load; skipped');
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
