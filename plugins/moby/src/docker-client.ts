import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { inspect } from 'node:util';
import type { IncomingMessage } from 'node:http';
import Dockerode from 'dockerode';
import type { ContainerInfo as DockerContainerSummary, ContainerInspectInfo } from 'dockerode';
import { EngineUnavailableError } from '@enginegate/plugin-api';
import { describeDockerEndpoint, dockerodeOptions, type DockerEndpoint } from './docker-endpoint.js';
import { requestRawLogs, type PlainDockerEndpoint } from './docker-raw-logs-request.js';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './moby-settings.js';

export type { ContainerInspectInfo, DockerContainerSummary };

/** Query of `GET /containers/{id}/logs`, as Docker spells it. */
export interface DockerLogsQuery {
  follow: boolean;
  stdout: boolean;
  stderr: boolean;
  /** False only for a `linesOnly` read (no times, no cursors wanted). */
  timestamps: boolean;
  tail?: string;
  since?: string;
  until?: string;
}

/**
 * Whose logs: a container's (`/containers/{id}/logs`), or a swarm task's through the manager's
 * log broker (`/tasks/{id}/logs`, the only way to a task on another node).
 */
export type LogsOwner = 'containers' | 'tasks';

/** Query of `GET /events`: `since` (Unix seconds) replays what the daemon still has from then. */
export interface DockerEventsQuery {
  since: string;
  /** JSON, e.g. `{"type":["container"]}`. */
  filters: string;
}

export const PING_TIMEOUT_MS = 2_000;

/**
 * One connection setup to a Docker daemon: dockerode over a private keep-alive agent, and log
 * bodies read over sockets of their own (docker-raw-logs-request.ts), so that `close()`
 * provably drops every socket to the daemon.
 */
export class DockerClient {
  readonly docker: Dockerode;
  readonly description: string;
  private readonly agent: http.Agent;
  /**
   * Pings go over a new connection each: a daemon that is shutting down has closed its
   * listener but still serves the connections it has, so a pooled one would say "alive".
   */
  private readonly pingDocker: Dockerode;
  private readonly pingAgent: http.Agent;
  /** Where logs are read over a plain socket; undefined for TLS, whose logs go through dockerode. */
  private readonly plainEndpoint: PlainDockerEndpoint | undefined;
  /** The sockets of log bodies read without dockerode, until each closes. */
  private readonly logSockets = new Set<Socket>();

  constructor(
    endpoint: DockerEndpoint,
    private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    this.description = describeDockerEndpoint(endpoint);
    this.plainEndpoint =
      endpoint.kind === 'unix'
        ? { kind: 'unix', socketPath: endpoint.socketPath }
        : endpoint.tls === undefined
          ? { kind: 'tcp', host: endpoint.host, port: endpoint.port }
          : undefined;
    const agentOptions: http.AgentOptions = { keepAlive: true, maxFreeSockets: 4 };
    this.agent = newAgent(endpoint, agentOptions, this.description);
    this.pingAgent = newAgent(endpoint, { keepAlive: false }, this.description);
    try {
      this.docker = new Dockerode(dockerodeOptions(endpoint, this.agent));
      this.pingDocker = new Dockerode(dockerodeOptions(endpoint, this.pingAgent));
    } catch (err) {
      // docker-modem reads DOCKER_CERT_PATH files itself and throws when they are missing.
      this.agent.destroy();
      this.pingAgent.destroy();
      throw new EngineUnavailableError(
        `cannot set up a Docker client for ${this.description}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  async ping(timeoutMs = PING_TIMEOUT_MS): Promise<void> {
    // dockerode's ping takes `{ abortSignal }` like every call; its types only list a callback.
    const ping = this.pingDocker.ping.bind(this.pingDocker) as unknown as (options: {
      abortSignal: AbortSignal;
    }) => Promise<unknown>;
    await ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
  }

  inspect(ref: string, signal?: AbortSignal): Promise<ContainerInspectInfo> {
    return this.docker.getContainer(ref).inspect({ abortSignal: this.bounded(signal) });
  }

  listContainers(signal?: AbortSignal): Promise<DockerContainerSummary[]> {
    return this.docker.listContainers({ all: true, abortSignal: this.bounded(signal) });
  }

  /** `GET /info` (dockerode's info takes `{ abortSignal }` like every call; its types list none). */
  info(signal?: AbortSignal): Promise<unknown> {
    const info = this.docker.info.bind(this.docker) as unknown as (options: {
      abortSignal: AbortSignal;
    }) => Promise<unknown>;
    return info({ abortSignal: this.bounded(signal) });
  }

  /** A swarm manager's `GET /services`, `/tasks` and `/nodes`, in one go. */
  swarmLists(signal?: AbortSignal): Promise<[unknown[], unknown[], unknown[]]> {
    const abortSignal = this.bounded(signal);
    return Promise.all([
      this.docker.listServices({ abortSignal }) as Promise<unknown[]>,
      this.docker.listTasks({ abortSignal }) as Promise<unknown[]>,
      this.docker.listNodes({ abortSignal }) as Promise<unknown[]>,
    ]);
  }

  /**
   * Starts `GET /containers/{id}/logs` (or `/tasks/{id}/logs`) and resolves with the body once Docker answered
   * 200, before any of it is read: the body is the caller's to pull (and destroy).
   * Always a stream, whether or not `follow` is set. Only the wait for the response headers
   * is bounded (the request timeout); the body never times out. Over a unix socket or plain
   * TCP the body is read in bulk over HTTP/1.0 (requestRawLogs); over TLS through dockerode.
   */
  openLogs(
    id: string,
    query: DockerLogsQuery,
    signal: AbortSignal,
    owner: LogsOwner = 'containers',
  ): Promise<Readable> {
    const path = `/${owner}/${encodeURIComponent(id)}/logs?`;
    const statusReasons = {
      404: owner === 'tasks' ? 'no such task' : 'no such container',
      501: 'logs not implemented',
    };
    if (this.plainEndpoint === undefined) return this.openStream('logs', path, { ...query }, signal, statusReasons);
    return requestRawLogs({
      endpoint: this.plainEndpoint,
      path: path + logsQueryString(query),
      signal,
      headTimeoutMs: this.requestTimeoutMs,
      timeoutError: this.noAnswerError('logs'),
      statusReasons: { 500: 'server error', ...statusReasons },
      onSocket: (socket) => {
        this.logSockets.add(socket);
        socket.once('close', () => this.logSockets.delete(socket));
      },
    });
  }

  /** A swarm manager's `GET /tasks/{id}`. */
  inspectTask(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.docker.getTask(id).inspect({ abortSignal: this.bounded(signal) }) as Promise<unknown>;
  }

  /**
   * Starts `GET /events` (newline-separated JSON objects, never ending while the daemon runs);
   * resolves with the response once Docker answered 200, as openLogs does.
   */
  openEvents(query: DockerEventsQuery, signal: AbortSignal): Promise<IncomingMessage> {
    return this.openStream('events', '/events?', { ...query }, signal, {});
  }

  private openStream(
    what: string,
    path: string,
    options: Record<string, unknown>,
    signal: AbortSignal,
    statusCodes: Record<number, string>,
  ): Promise<IncomingMessage> {
    const request = new AbortController();
    const forward = () => request.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    const timeout = this.noAnswerError(what);
    const timer = setTimeout(() => request.abort(timeout), this.requestTimeoutMs);
    return new Promise<IncomingMessage>((resolve, reject) => {
      this.docker.modem.dial(
        {
          path,
          method: 'GET',
          options,
          isStream: true,
          abortSignal: request.signal,
          statusCodes: { 200: true, 500: 'server error', ...statusCodes },
        },
        (err: unknown, response: unknown) => {
          // dockerode's error, as it came: the caller maps it to a plugin-api error.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          if (err) reject(request.signal.reason === timeout ? timeout : err);
          else resolve(response as IncomingMessage);
        },
      );
    }).finally(() => clearTimeout(timer));
  }

  private noAnswerError(what: string): EngineUnavailableError {
    return new EngineUnavailableError(
      `the Docker daemon did not answer a ${what} request within ${this.requestTimeoutMs} ms`,
    );
  }

  /** The caller's signal (if any), bounded by the request timeout. */
  private bounded(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  }

  /** Destroys every socket to the daemon, idle or in use. */
  close(): void {
    this.agent.destroy();
    this.pingAgent.destroy();
    for (const socket of this.logSockets) socket.destroy();
    this.logSockets.clear();
  }
}

/** The query as docker-modem spells it (`follow=true`, …), unset fields left out. */
function logsQueryString(query: DockerLogsQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  return params.toString();
}

function newAgent(endpoint: DockerEndpoint, options: http.AgentOptions, description: string): http.Agent {
  const agent =
    endpoint.kind === 'tcp' && endpoint.tls
      ? new https.Agent({ ...options, rejectUnauthorized: endpoint.tls.verify })
      : new http.Agent(options);
  // docker-modem util.inspect()s every request's options (agent included, every socket in
  // it, depth unlimited) for a debug line even when debugging is off: at ten requests in
  // flight that cost 40 ms a request. The agent inspects as one short word instead.
  Object.defineProperty(agent, inspect.custom, { value: () => `[Agent for ${description}]` });
  return agent;
}
