import {
  DaemonEngine,
  type DaemonEngineOptions,
  type ContainerEvent,
  type ContainerRef,
  type Engine,
  type LogOptions,
  type LogRecord,
  type LogSource,
  type PassthroughEndpoint,
  type PluginLogger,
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

/**
 * `config.podmanSocket`: a path (or `unix://` URL); otherwise CONTAINER_HOST, else
 * /run/podman/podman.sock. Requests are bounded by 10 s unless `requestTimeoutMs` (option or
 * setting) says otherwise.
 */
export type PodmanEngineOptions = DaemonEngineOptions;

/**
 * Podman, through the libpod REST API of `podman system service`. Its state follows the
 * service: start() and health() fail while it is down and succeed again once it is back,
 * without a new engine.
 */
export class PodmanEngine extends DaemonEngine<LibpodClient> implements Engine {
  readonly name = 'podman';
  readonly logs: LogSource;
  private readonly logger: PluginLogger;

  constructor(options: PodmanEngineOptions) {
    super(options, {
      engine: 'podman',
      daemon: 'the Podman service',
      logKey: 'podman',
      defaultRequestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      connect: (timeoutMs) =>
        new LibpodClient(resolvePodmanEndpoint(options.config, options.env ?? process.env), timeoutMs),
      toEngineError,
    });
    this.logs = { open: (ref, logOptions, signal) => this.openLogs(ref, logOptions, signal) };
    this.logger = options.logger;
  }

  /** Every container, with its labels and pod (`podman ps -a`, infra containers included). */
  async containers(): Promise<PodmanContainerInfo[]> {
    try {
      return await listContainers(this.daemon.client());
    } catch (err) {
      throw this.daemon.engineError(err, 'containers');
    }
  }

  /** libpod's `/events` (containers only), open once Podman answered; stop() ends it. */
  async events(signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>> {
    const client = this.daemon.client();
    const { opened: response, signal: streamSignal } = await this.daemon.openStream(
      signal,
      'events',
      (streamSignal) => client.openEvents(libpodEventsQuery(), streamSignal),
      (response) => response,
    );
    return podmanEventStream({
      client,
      response,
      signal: streamSignal,
      logger: this.logger,
      onServiceLost: (message) => this.daemon.outage.lost(message),
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
            return await listPods(this.daemon.client());
          } catch (err) {
            throw this.daemon.engineError(err, 'pods');
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
    const { client, name, owner: container } = await this.logOwner(ref, options, signal, resolveContainer);
    // The client's signal or stop() abort the stream; that aborts the request.
    const {
      opened,
      signal: streamSignal,
      release,
    } = await this.daemon.openStream(
      signal,
      name,
      async (streamSignal) => {
        const plan = await planRead(client, container.id, options, streamSignal);
        if (plan.empty) return { plan };
        const query = libpodLogsQuery(options, plan.readFrom);
        return { plan, query, response: await client.openLogs(container.id, query, streamSignal) };
      },
      (opened) => opened.response,
    );
    const { plan, query, response } = opened;
    if (response === undefined || query === undefined) return emptyLog();
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
      logger: this.logger,
      onServiceLost: (message) => this.daemon.outage.lost(message),
      onRelease: release,
    });
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
