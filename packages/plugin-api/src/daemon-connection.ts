import { OpenStreams, OutageReporter, logRequestFailure } from './engine-streams.js';
import { EngineUnavailableError, InvalidArgumentError, errorText, hasErrorCode } from './errors.js';
import { validateContainerRef } from './container-ref.js';
import type { ContainerRef, EngineHealth, LogOptions, PluginLogger, PluginOptions } from './types.js';

/** What a daemon's API client must offer for its engine's start, stop and health. */
export interface DaemonClient {
  /** Where it connects, e.g. `unix:///var/run/docker.sock`. */
  readonly description: string;
  /** Resolves when the daemon answers within `timeoutMs` (the client's default when not given). */
  ping(timeoutMs?: number): Promise<void>;
  /** Drops every socket to the daemon. */
  close(): void;
}

/** What an engine on a daemon is given: its plugin's settings, logger and health report. */
export interface DaemonEngineOptions {
  config: Readonly<Record<string, unknown>>;
  logger: PluginLogger;
  reportHealth: PluginOptions['reportHealth'];
  /** Where the daemon's address variables (DOCKER_HOST, CONTAINER_HOST) are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Bounds each request to the daemon (inspect, list, the wait for a logs response's headers;
   * never a log body); `config.requestTimeoutMs` sets it too.
   */
  requestTimeoutMs?: number;
}

/** The daemon an engine talks to. */
export interface DaemonSpec<C extends DaemonClient> {
  /** The engine's name, for messages: `the moby engine is not started`. */
  engine: string;
  /** What answers, for messages: `the Docker daemon`, `the Podman service`. */
  daemon: string;
  /** The key the endpoint is logged under: `{ docker: 'unix:///…' }`. */
  logKey: string;
  /** The request bound when neither the option nor the setting gives one. */
  defaultRequestTimeoutMs: number;
  /** Builds the client at the first start() (settings and environment are read then). */
  connect(requestTimeoutMs: number): C;
  /** The daemon's error as a typed one for the client (not found, ambiguous, unavailable, …). */
  toEngineError(err: unknown, ref: string): Error;
}

const START_PING_TIMEOUT_MS = 3_000;

/**
 * An engine's link to one daemon over its HTTP API (dockerd, `podman system service`): its
 * state follows the daemon, so start() and health() fail while it is down and succeed again
 * once it is back, without a new engine. stop() ends every open stream.
 */
export class DaemonConnection<C extends DaemonClient> {
  /** stop() aborts them all. */
  readonly openStreams = new OpenStreams();
  readonly outage: OutageReporter;
  private current: C | undefined;

  constructor(
    private readonly options: DaemonEngineOptions,
    private readonly spec: DaemonSpec<C>,
  ) {
    this.outage = new OutageReporter(options.reportHealth, options.logger, () => ({
      [spec.logKey]: this.current?.description,
    }));
  }

  /** The engine's name. */
  get engine(): string {
    return this.spec.engine;
  }

  /** The daemon this engine talks to, or `not started`. */
  get endpoint(): string {
    return this.current?.description ?? 'not started';
  }

  async start(): Promise<void> {
    const { options, spec } = this;
    this.current ??= spec.connect(
      requestTimeoutSetting(options.requestTimeoutMs, options.config, spec.defaultRequestTimeoutMs),
    );
    const client = this.current;
    try {
      await client.ping(START_PING_TIMEOUT_MS);
    } catch (err) {
      this.outage.down();
      throw new EngineUnavailableError(this.notAnswering(client, err), { cause: err });
    }
    options.logger.info({ [spec.logKey]: client.description }, `connected to ${spec.daemon}`);
    this.outage.up();
  }

  stop(): Promise<void> {
    this.openStreams.abortAll(new EngineUnavailableError(`the ${this.spec.engine} engine was stopped`));
    this.current?.close();
    this.current = undefined;
    return Promise.resolve();
  }

  async health(): Promise<EngineHealth> {
    const client = this.current;
    if (client === undefined) return { ok: false, message: `the ${this.spec.engine} engine is not started` };
    try {
      await client.ping();
      this.outage.up();
      return { ok: true };
    } catch (err) {
      this.outage.down();
      return { ok: false, message: this.notAnswering(client, err) };
    }
  }

  /** The started client; EngineUnavailableError before start() or after stop(). */
  client(): C {
    if (this.current === undefined) throw new EngineUnavailableError(`the ${this.spec.engine} engine is not started`);
    return this.current;
  }

  /**
   * Opens a stream through `request`, under a signal that the client's signal and stop() abort
   * and that destroys the response `responseOf` finds (at once, even if nobody ever iterates);
   * no response means nothing to stream, released at once. A failed request releases the
   * stream and is typed for `ref`.
   */
  async openStream<T>(
    clientSignal: AbortSignal,
    ref: string,
    request: (signal: AbortSignal) => Promise<T>,
    responseOf: (opened: T) => { destroy(): void } | undefined,
  ): Promise<{ opened: T; signal: AbortSignal; release: () => void }> {
    const { signal, release, destroyOnAbort } = this.openStreams.open(clientSignal);
    let opened: T;
    try {
      opened = await request(signal);
    } catch (err) {
      release();
      throw this.engineError(err, ref);
    }
    const response = responseOf(opened);
    if (response === undefined) release();
    else destroyOnAbort(response);
    return { opened, signal, release };
  }

  /** A typed error for the client: an outage is reported; the rest logged by who is at fault. */
  engineError(err: unknown, ref: string): Error {
    if ((err as Error | undefined)?.name === 'AbortError') return err as Error;
    const mapped = this.spec.toEngineError(err, ref);
    if (hasErrorCode(mapped, 'ENGINE_UNAVAILABLE')) this.outage.lost(mapped.message);
    else logRequestFailure(this.options.logger, mapped, err, ref);
    return mapped;
  }

  private notAnswering(client: C, err: unknown): string {
    return `${this.spec.daemon} at ${client.description} is not answering: ${errorText(err)}`;
  }
}

/** What every engine on a DaemonConnection does alike; the engine adds logs, containers, events. */
export abstract class DaemonEngine<C extends DaemonClient> {
  protected readonly daemon: DaemonConnection<C>;

  constructor(options: DaemonEngineOptions, spec: DaemonSpec<C>) {
    this.daemon = new DaemonConnection(options, spec);
  }

  /** The daemon this engine talks to, e.g. `unix:///var/run/docker.sock`. */
  get endpoint(): string {
    return this.daemon.endpoint;
  }

  /** Log streams open right now. */
  get openStreamCount(): number {
    return this.daemon.openStreams.size;
  }

  start(): Promise<void> {
    return this.daemon.start();
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }

  health(): Promise<EngineHealth> {
    return this.daemon.health();
  }

  /**
   * Where a log open starts: the reference checked, a cursor other than a time refused, and
   * the container resolved by `resolve` (its failure typed for the reference).
   */
  protected async logOwner<T>(
    ref: ContainerRef,
    options: LogOptions,
    signal: AbortSignal,
    resolve: (client: C, name: string, signal: AbortSignal) => Promise<T>,
  ): Promise<{ client: C; name: string; owner: T }> {
    const client = this.daemon.client();
    const name = validateContainerRef(ref.ref);
    if (options.after !== undefined && options.after.kind !== 'time') {
      throw new InvalidArgumentError(
        'after',
        `after= is not a cursor of the ${this.daemon.engine} engine (it takes time cursors)`,
      );
    }
    try {
      return { client, name, owner: await resolve(client, name, signal) };
    } catch (err) {
      throw this.daemon.engineError(err, name);
    }
  }
}

/**
 * The bound on each request to a daemon: the engine option, else the `requestTimeoutMs`
 * setting, else `fallback`; anything but a positive number is an InvalidArgumentError.
 */
function requestTimeoutSetting(
  option: number | undefined,
  config: Readonly<Record<string, unknown>>,
  fallback: number,
): number {
  const configured = option ?? config['requestTimeoutMs'];
  if (configured === undefined) return fallback;
  if (typeof configured !== 'number' || !Number.isFinite(configured) || configured <= 0) {
    throw new InvalidArgumentError('requestTimeoutMs', 'requestTimeoutMs must be a number of milliseconds > 0');
  }
  return configured;
}
