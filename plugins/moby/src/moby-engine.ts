import {
  DaemonEngine,
  type DaemonEngineOptions,
  SWARM_LABELS,
  isConnectionFailure,
  type ContainerEvent,
  type ContainerInfo,
  type ContainerRef,
  type Engine,
  type LogOptions,
  type LogRecord,
  type LogSource,
  type PassthroughEndpoint,
  type PluginLogger,
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

/**
 * `config.dockerSocket`: a path (or `unix://` URL); otherwise DOCKER_HOST, else /var/run/docker.sock.
 * Requests are bounded by 10 s unless `requestTimeoutMs` (option or setting) says otherwise.
 */
export type MobyEngineOptions = DaemonEngineOptions;

/**
 * The Docker Engine, through dockerode. Its state follows the daemon: start() and health()
 * fail while dockerd is down and succeed again once it is back, without a new engine.
 */
export class MobyEngine extends DaemonEngine<DockerClient> implements Engine {
  readonly name = 'moby';
  readonly logs: LogSource;
  private readonly logger: PluginLogger;
  private readonly nodeName = new LocalNodeName();

  constructor(options: MobyEngineOptions) {
    super(options, {
      engine: 'moby',
      daemon: 'the Docker daemon',
      logKey: 'docker',
      defaultRequestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      connect: (timeoutMs) =>
        new DockerClient(resolveDockerEndpoint(options.config, options.env ?? process.env), timeoutMs),
      toEngineError,
    });
    this.logs = { open: (ref, logOptions, signal) => this.openLogs(ref, logOptions, signal) };
    this.logger = options.logger;
  }

  /**
   * `GET /passthrough/moby/services`: on a swarm manager every service with its tasks (as
   * `docker service ps` lists them), else the daemon's role and no services.
   */
  passthroughs(): PassthroughEndpoint[] {
    return [
      servicesEndpoint(
        () => this.daemon.client(),
        (err) => this.daemon.engineError(err, 'services'),
      ),
    ];
  }

  async containers(): Promise<ContainerInfo[]> {
    const client = this.daemon.client();
    let summaries: DockerContainerSummary[];
    let node: string | undefined;
    try {
      summaries = await client.listContainers();
      // A swarm task's container runs on this daemon's node: named by its hostname.
      if (summaries.some((s) => s.Labels?.[SWARM_LABELS.taskId] !== undefined)) {
        node = await this.nodeName.of(client);
      }
    } catch (err) {
      throw this.daemon.engineError(err, 'containers');
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
          if (isConnectionFailure(err)) throw this.daemon.engineError(err, 'containers');
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
      if (isConnectionFailure(err)) throw this.daemon.engineError(err, 'containers');
      this.logger.warn({ err }, 'the swarm tasks of other nodes could not be listed');
      return [];
    }
  }

  /** Docker's `/events` (containers only), open once Docker answered; stop() ends it. */
  async events(signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>> {
    const client = this.daemon.client();
    const { opened: response, signal: streamSignal } = await this.daemon.openStream(
      signal,
      'events',
      (streamSignal) => client.openEvents(dockerEventsQuery(), streamSignal),
      (response) => response,
    );
    const own = dockerEventStream({
      client,
      response,
      signal: streamSignal,
      logger: this.logger,
      onDaemonLost: (message) => this.daemon.outage.lost(message),
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
    const { client, name, owner: container } = await this.logOwner(ref, options, signal, resolveLogOwner);
    // The client's signal or stop() abort the stream; that aborts the request.
    const {
      opened,
      signal: streamSignal,
      release,
    } = await this.daemon.openStream(
      signal,
      name,
      async (streamSignal) => {
        const { start, selection } = await selectionStart(client, container, options, streamSignal);
        const firstQuery = dockerLogsQuery(selection, start);
        const response = await client.openLogs(
          container.taskId ?? container.id,
          firstQuery,
          streamSignal,
          container.taskId === undefined ? 'containers' : 'tasks',
        );
        return { start, selection, firstQuery, response };
      },
      (opened) => opened.response,
    );
    const { start, selection, firstQuery, response } = opened;
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
      logger: this.logger,
      onDaemonLost: (message) => this.daemon.outage.lost(message),
      onRelease: release,
    });
  }
}
