// One gateway's state after createGateway: its app, container, token, URL and origins, and
// how it listens and shuts down.
import { chmod, lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { AwilixContainer } from 'awilix';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { EngineManager } from './engine-manager.js';
import type { ResolvedGatewayOptions } from './gateway-options.js';
import type { Heartbeat } from './logs/heartbeat.js';
import { CLOSE } from './logs/log-stream.js';
import type { LogStreamRegistry } from './logs/log-stream-registry.js';
import type { SharedLiveTails } from './logs/shared-live-tails.js';
import type { GatewayMetrics } from './metrics.js';
import type { PassthroughRegistry } from './passthrough-registry.js';
import type { PluginLoader, PluginLoadError } from './plugin-loader.js';

/** After 1001, how long clients get to answer the close handshake before their sockets are cut. */
const CLOSE_HANDSHAKE_GRACE_MS = 1000;

/** What the container holds; each gateway has its own. */
export interface GatewayCradle {
  gatewayOptions: ResolvedGatewayOptions;
  logger: FastifyBaseLogger;
  engines: EngineManager;
  streams: LogStreamRegistry;
  metrics: GatewayMetrics;
  passthroughs: PassthroughRegistry;
  pluginLoader: PluginLoader;
  heartbeat: Heartbeat;
  liveTails: SharedLiveTails;
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

export class GatewayInstance implements Gateway {
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
      // Created 0600 by the umask, so there is no moment at which others may connect.
      const umask = process.umask(0o177);
      try {
        await this.app.listen({ path: socket });
      } finally {
        process.umask(umask);
      }
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

  /** From close() on, every new request is refused (503 SHUTDOWN). */
  get shuttingDown(): boolean {
    return this.closing !== undefined;
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
