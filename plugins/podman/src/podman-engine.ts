import {
  EngineUnavailableError,
  InvalidArgumentError,
  OpenStreams,
  OutageReporter,
  errorText,
  hasErrorCode,
  logRequestFailure,
  validateContainerRef,
  type ContainerEvent,
  type ContainerRef,
  type Engine,
  type EngineHealth,
  type LogOptions,
  type LogRecord,
  type LogSource,
  type PassthroughEndpoint,
  type PluginLogger,
  type PluginOptions,
} from '@enginegate/plugin-api';
import { resolveContainer } from './container-resolver.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, LibpodClient } from './libpod-client.js';
import { libpodLogsQuery } from './libpod-logs-query.js';
import { listContainers, listPods, type PodmanContainerInfo } from './listing.js';
import { parserFor, planRead } from './log-start.js';
import { libpodEventsQuery, podmanEventStream } from './podman-events.js';
import { resolvePodmanEndpoint } from './podman-endpoint.js';
import { toEngineError } from './podman-errors.js';
import { PodmanLogStream } from './podman-log-stream.js';

const START_PING_TIMEOUT_MS = 3_000;

export interface PodmanEngineOptions {
  /** `podmanSocket`: a path (or `unix://` URL); otherwise CONTAINER_HOST, else /run/podman/podman.sock. */
  config: Readonly<Record<string, unknown>>;
  logger: PluginLogger;
  reportHealth: PluginOptions['reportHealth'];
  /** Where CONTAINER_HOST is read, at each start() (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Bounds each request to the service (inspect, list, the wait for a logs response's headers;
   * never a log body). Default 10 s; `config.requestTimeoutMs` sets it too.
   */
  requestTimeoutMs?: number;
}

/**
 * Podman, through the libpod REST API of `podman system service`. Its state follows the
 * service: start() and health() fail while it is down and succeed again once it is back,
 * without a new engine.
 */
export class PodmanEngine implements Engine {
  readonly name = 'podman';
  readonly logs: LogSource;
  private client: LibpodClient | undefined;
  /** stop() aborts them all. */
  private readonly openStreams = new OpenStreams();
  private readonly outage: OutageReporter;

  constructor(private readonly options: PodmanEngineOptions) {
    this.logs = { open: (ref, logOptions, signal) => this.openLogs(ref, logOptions, signal) };
    this.outage = new OutageReporter(options.reportHealth, options.logger, () => ({
      podman: this.client?.description,
    }));
  }

  /** The service this engine talks to, e.g. `unix:///run/podman/podman.sock`. */
  get endpoint(): string {
    return this.client?.description ?? 'not started';
  }

  /** Log streams open right now. */
  get openStreamCount(): number {
    return this.openStreams.size;
  }

  async start(): Promise<void> {
    if (this.client === undefined) {
      this.client = new LibpodClient(
        resolvePodmanEndpoint(this.options.config, this.options.env ?? process.env),
        this.requestTimeoutMs(),
      );
    }
    try {
      await this.client.ping(START_PING_TIMEOUT_MS);
    } catch (err) {
      this.outage.down();
      throw new EngineUnavailableError(this.notAnswering(this.client, err), { cause: err });
    }
    this.options.logger.info({ podman: this.client.description }, 'connected to the Podman service');
    this.outage.up();
  }

  stop(): Promise<void> {
    this.openStreams.abortAll(new EngineUnavailableError('the podman engine was stopped'));
    this.client?.close();
    this.client = undefined;
    return Promise.resolve();
  }

  async health(): Promise<EngineHealth> {
    const client = this.client;
    if (client === undefined) return { ok: false, message: 'the podman engine is not started' };
    try {
      await client.ping();
      this.outage.up();
      return { ok: true };
    } catch (err) {
      this.outage.down();
      return { ok: false, message: this.notAnswering(client, err) };
    }
  }

  /** Every container, with its labels and pod (`podman ps -a`, infra containers included). */
  async containers(): Promise<PodmanContainerInfo[]> {
    try {
      return await listContainers(this.requireClient());
    } catch (err) {
      throw this.engineError(err, 'containers');
    }
  }

  /** libpod's `/events` (containers only), open once Podman answered; stop() ends it. */
  async events(signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>> {
    const client = this.requireClient();
    const { signal: streamSignal, release, destroyOnAbort } = this.openStreams.open(signal);
    let response;
    try {
      response = await client.openEvents(libpodEventsQuery(), streamSignal);
    } catch (err) {
      release();
      throw this.engineError(err, 'events');
    }
    destroyOnAbort(response); // released at once, even if nobody ever iterates
    return podmanEventStream({
      client,
      response,
      signal: streamSignal,
      logger: this.options.logger,
      onServiceLost: (message) => this.outage.lost(message),
    });
  }

  /** `GET /passthrough/podman/pods`: the pods, with their labels and containers. */
  passthroughs(): PassthroughEndpoint[] {
    return [
      {
        controller: 'podman',
        endpoint: 'pods',
        handler: async () => {
          try {
            return await listPods(this.requireClient());
          } catch (err) {
            throw this.engineError(err, 'pods');
          }
        },
      },
    ];
  }

  private async openLogs(
    ref: ContainerRef,
    options: LogOptions,
    signal: AbortSignal,
  ): Promise<AsyncIterable<LogRecord[]>> {
    const client = this.requireClient();
    const name = validateContainerRef(ref.ref);
    if (options.after !== undefined && options.after.kind !== 'time') {
      throw new InvalidArgumentError('after', 'after= is not a cursor of the podman engine (it takes time cursors)');
    }
    let container;
    try {
      container = await resolveContainer(client, name, signal);
    } catch (err) {
      throw this.engineError(err, name);
    }

    // The client's signal or stop() abort the stream; that aborts the request.
    const { signal: streamSignal, release, destroyOnAbort } = this.openStreams.open(signal);
    let plan, query, response;
    try {
      plan = await planRead(client, container.id, options, streamSignal);
      if (plan.empty) {
        release();
        return emptyLog();
      }
      query = libpodLogsQuery(options, plan.readFrom);
      response = await client.openLogs(container.id, query, streamSignal);
    } catch (err) {
      release();
      throw this.engineError(err, name);
    }
    destroyOnAbort(response); // released at once, even if nobody ever iterates
    return new PodmanLogStream({
      client,
      containerId: container.id,
      options,
      start: plan.start,
      parser: parserFor(plan),
      readFrom: plan.readFrom,
      firstResponse: response,
      firstQuery: query,
      signal: streamSignal,
      logger: this.options.logger,
      onServiceLost: (message) => this.outage.lost(message),
      onRelease: release,
    });
  }

  private requestTimeoutMs(): number {
    const configured = this.options.requestTimeoutMs ?? this.options.config['requestTimeoutMs'];
    if (configured === undefined) return DEFAULT_REQUEST_TIMEOUT_MS;
    if (typeof configured !== 'number' || !Number.isFinite(configured) || configured <= 0) {
      throw new InvalidArgumentError('requestTimeoutMs', 'requestTimeoutMs must be a number of milliseconds > 0');
    }
    return configured;
  }

  private requireClient(): LibpodClient {
    if (this.client === undefined) throw new EngineUnavailableError('the podman engine is not started');
    return this.client;
  }

  private notAnswering(client: LibpodClient, err: unknown): string {
    return `the Podman service at ${client.description} is not answering: ${errorText(err)}`;
  }

  /** A typed error for the client: an outage is reported; the rest logged by who is at fault. */
  private engineError(err: unknown, ref: string): Error {
    if ((err as Error | undefined)?.name === 'AbortError') return err as Error;
    const mapped = toEngineError(err, ref);
    if (hasErrorCode(mapped, 'ENGINE_UNAVAILABLE')) this.outage.lost(mapped.message);
    else logRequestFailure(this.options.logger, mapped, err, ref);
    return mapped;
  }
}

/** The records of a selection that is empty by its parameters (`tail=0` without follow). */
function emptyLog(): AsyncIterable<LogRecord[]> {
  return {
    [Symbol.asyncIterator]: () => {
      const done = () => Promise.resolve({ done: true as const, value: undefined });
      return { next: done, return: done };
    },
  };
}
