import {
  EngineUnavailableError,
  InvalidArgumentError,
  OpenStreams,
  OutageReporter,
  SWARM_LABELS,
  hasErrorCode,
  isConnectionFailure,
  logRequestFailure,
  validateContainerRef,
  type ContainerEvent,
  type ContainerInfo,
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
import { DockerClient, type DockerContainerSummary } from './docker-client.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './moby-settings.js';
import { resolveLogOwner } from './container-resolver.js';
import { dockerEventStream, dockerEventsQuery } from './docker-events.js';
import { toEngineError } from './docker-errors.js';
import { resolveDockerEndpoint } from './docker-endpoint.js';
import { DockerLogStream } from './docker-log-stream.js';
import { dockerLogsQuery } from './docker-logs-query.js';
import { selectionStart } from './tail-start.js';
import { LocalNodeName, servicesEndpoint } from './swarm-directory.js';
import { remoteTasks } from './remote-tasks.js';
import { RemoteTaskEvents, mergeEventStreams } from './remote-task-events.js';

/** Inspects in flight at once while listing containers (the list itself lacks `Tty`). */
const INSPECT_CONCURRENCY = 8;
const START_PING_TIMEOUT_MS = 3_000;

export interface MobyEngineOptions {
  /** `dockerSocket`: a path (or `unix://` URL); otherwise DOCKER_HOST, else /var/run/docker.sock. */
  config: Readonly<Record<string, unknown>>;
  logger: PluginLogger;
  reportHealth: PluginOptions['reportHealth'];
  /** Where DOCKER_HOST and friends are read, at each start() (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Bounds each request to the daemon (inspect, list, the wait for a logs response's headers;
   * never a log body). Default 10 s; `config.requestTimeoutMs` sets it too.
   */
  requestTimeoutMs?: number;
}

/**
 * The Docker Engine, through dockerode. Its state follows the daemon: start() and health()
 * fail while dockerd is down and succeed again once it is back, without a new engine.
 */
export class MobyEngine implements Engine {
  readonly name = 'moby';
  readonly logs: LogSource;
  private client: DockerClient | undefined;
  /** stop() aborts them all. */
  private readonly openStreams = new OpenStreams();
  private readonly outage: OutageReporter;
  private readonly nodeName = new LocalNodeName();

  constructor(private readonly options: MobyEngineOptions) {
    this.logs = { open: (ref, logOptions, signal) => this.openLogs(ref, logOptions, signal) };
    this.outage = new OutageReporter(options.reportHealth, options.logger, () => ({
      docker: this.client?.description,
    }));
  }

  /** The daemon this engine talks to, e.g. `unix:///var/run/docker.sock`. */
  get endpoint(): string {
    return this.client?.description ?? 'not started';
  }

  /** Log streams open right now. */
  get openStreamCount(): number {
    return this.openStreams.size;
  }

  async start(): Promise<void> {
    if (this.client === undefined) {
      this.client = new DockerClient(
        resolveDockerEndpoint(this.options.config, this.options.env ?? process.env),
        this.requestTimeoutMs(),
      );
    }
    try {
      await this.client.ping(START_PING_TIMEOUT_MS);
    } catch (err) {
      const message = `the Docker daemon at ${this.client.description} is not answering: ${(err as Error).message}`;
      this.outage.down();
      throw new EngineUnavailableError(message, { cause: err });
    }
    this.options.logger.info({ docker: this.client.description }, 'connected to the Docker daemon');
    this.outage.up();
  }

  async stop(): Promise<void> {
    this.openStreams.abortAll(new EngineUnavailableError('the moby engine was stopped'));
    this.client?.close();
    this.client = undefined;
  }

  async health(): Promise<EngineHealth> {
    const client = this.client;
    if (client === undefined) return { ok: false, message: 'the moby engine is not started' };
    try {
      await client.ping();
      this.outage.up();
      return { ok: true };
    } catch (err) {
      this.outage.down();
      return {
        ok: false,
        message: `the Docker daemon at ${client.description} is not answering: ${(err as Error).message}`,
      };
    }
  }

  /**
   * `GET /passthrough/moby/services`: on a swarm manager every service with its tasks (as
   * `docker service ps` lists them), else the daemon's role and no services.
   */
  passthroughs(): PassthroughEndpoint[] {
    return [
      servicesEndpoint(
        () => this.requireClient(),
        (err) => this.engineError(err, 'services'),
      ),
    ];
  }

  async containers(): Promise<ContainerInfo[]> {
    const client = this.requireClient();
    let summaries: DockerContainerSummary[];
    let node: string | undefined;
    try {
      summaries = await client.listContainers();
      // A swarm task's container runs on this daemon's node: named by its hostname.
      if (summaries.some((s) => s.Labels?.[SWARM_LABELS.taskId] !== undefined)) {
        node = await this.nodeName.of(client);
      }
    } catch (err) {
      throw this.engineError(err, 'containers');
    }
    // The list has no `Tty`: inspect each, a few at a time; a container gone meanwhile is dropped.
    const infos = new Array<ContainerInfo | undefined>(summaries.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < summaries.length; i = next++) {
        const summary = summaries[i]!;
        try {
          const inspect = await client.inspect(summary.Id);
          infos[i] = {
            id: summary.Id,
            names: summary.Names.map((n) => n.replace(/^\//, '')),
            image: summary.Image,
            state: summary.State,
            tty: inspect.Config.Tty === true,
            createdAt: inspect.Created,
            labels: summary.Labels ?? {},
            ...(node !== undefined && summary.Labels?.[SWARM_LABELS.taskId] !== undefined ? { node } : {}),
          };
        } catch (err) {
          if (isConnectionFailure(err)) throw this.engineError(err, 'containers');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(INSPECT_CONCURRENCY, summaries.length) }, worker));
    const own = infos.filter((info): info is ContainerInfo => info !== undefined);
    return [...own, ...(await this.remoteTaskContainers(client))];
  }

  /** On a swarm manager, the containers of tasks on other nodes (read through `/tasks/{id}/logs`). */
  private async remoteTaskContainers(client: DockerClient): Promise<ContainerInfo[]> {
    try {
      return (await remoteTasks(client)).map((task) => task.info);
    } catch (err) {
      // Only an outage fails the listing: this daemon's own containers are listed already.
      if (isConnectionFailure(err)) throw this.engineError(err, 'containers');
      this.options.logger.warn({ err }, 'the swarm tasks of other nodes could not be listed');
      return [];
    }
  }

  /** Docker's `/events` (containers only), open once Docker answered; stop() ends it. */
  async events(signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>> {
    const client = this.requireClient();
    const { signal: streamSignal, release, destroyOnAbort } = this.openStreams.open(signal);
    let response;
    try {
      response = await client.openEvents(dockerEventsQuery(), streamSignal);
    } catch (err) {
      release();
      throw this.engineError(err, 'events');
    }
    destroyOnAbort(response); // released at once, even if nobody ever iterates
    const own = dockerEventStream({
      client,
      response,
      signal: streamSignal,
      logger: this.options.logger,
      onDaemonLost: (message) => this.outage.lost(message),
      swarmNode: () => this.nodeName.of(client),
    });
    // On a swarm manager, the tasks of other nodes too (their containers are not this daemon's).
    const remote = await RemoteTaskEvents.open(client, streamSignal);
    return remote === undefined ? own : mergeEventStreams([own, remote]);
  }

  private async openLogs(
    ref: ContainerRef,
    options: LogOptions,
    signal: AbortSignal,
  ): Promise<AsyncIterable<LogRecord[]>> {
    const client = this.requireClient();
    const name = validateContainerRef(ref.ref);
    if (options.after !== undefined && options.after.kind !== 'time') {
      throw new InvalidArgumentError('after', 'after= is not a cursor of the moby engine (it takes time cursors)');
    }
    let container;
    try {
      container = await resolveLogOwner(client, name, signal);
    } catch (err) {
      throw this.engineError(err, name);
    }

    // The client's signal or stop() abort the stream; that aborts the request.
    const { signal: streamSignal, release, destroyOnAbort } = this.openStreams.open(signal);

    let start;
    let selection;
    let response;
    let firstQuery;
    try {
      ({ start, selection } = await selectionStart(client, container, options, streamSignal));
      firstQuery = dockerLogsQuery(selection, start);
      response = await client.openLogs(
        container.taskId ?? container.id,
        firstQuery,
        streamSignal,
        container.taskId === undefined ? 'containers' : 'tasks',
      );
    } catch (err) {
      release();
      throw this.engineError(err, name);
    }
    destroyOnAbort(response); // released at once, even if nobody ever iterates
    return new DockerLogStream({
      client,
      containerId: container.id,
      ...(container.taskId !== undefined && { taskId: container.taskId }),
      tty: container.tty,
      logDriver: container.logDriver,
      options: selection,
      start,
      firstResponse: response,
      firstQuery,
      signal: streamSignal,
      logger: this.options.logger,
      onDaemonLost: (message) => this.outage.lost(message),
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

  private requireClient(): DockerClient {
    if (this.client === undefined) throw new EngineUnavailableError('the moby engine is not started');
    return this.client;
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
