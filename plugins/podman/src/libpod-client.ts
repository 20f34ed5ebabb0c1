import http, { type IncomingMessage } from 'node:http';
import { EngineUnavailableError } from '@enginegate/plugin-api';
import { describePodmanEndpoint, type PodmanEndpoint } from './podman-endpoint.js';
import { LibpodError } from './podman-errors.js';
import type { LibpodContainerSummary, LibpodInspect, LibpodPodSummary } from './libpod-types.js';

/** The libpod API's path prefix. Podman 4.0 is its oldest version; later services still serve it. */
export const LIBPOD_PREFIX = '/v4.0.0/libpod';
/** Bounds every request but the log and event bodies (those must never time out). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const PING_TIMEOUT_MS = 2_000;
/** A JSON answer larger than this is not one Podman would send (a list of ~10k containers is ~20 MiB). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

/** Query of `GET /libpod/containers/{id}/logs`, as Podman spells it. */
export interface LibpodLogsQuery {
  follow: boolean;
  stdout: true;
  stderr: true;
  timestamps: true;
  /** `<seconds>.<nanoseconds>`; Podman keeps entries stamped strictly after it. */
  since?: string;
  /** Podman keeps entries stamped strictly before it. */
  until?: string;
  tail?: string;
}

/** Query of `GET /libpod/events`. */
export interface LibpodEventsQuery {
  /** Unix seconds with a fraction: events stamped after it. */
  since: string;
  /** e.g. `{ type: ['container'], event: ['create', …] }`; values of one key are alternatives. */
  filters: Record<string, string[]>;
}

/**
 * A client of Podman's libpod REST API over node's own http, on a private keep-alive agent, so
 * that `close()` provably drops every socket to the service. (dockerode speaks the Docker API;
 * for the six libpod calls used here plain http is smaller and exact about the body.)
 */
export class LibpodClient {
  readonly description: string;
  private readonly agent: http.Agent;
  /**
   * Pings go over a new connection each: a service that is shutting down has closed its
   * listener but still serves the connections it has, so a pooled one would say "alive".
   */
  private readonly pingAgent: http.Agent;

  constructor(
    private readonly endpoint: PodmanEndpoint,
    private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    this.description = describePodmanEndpoint(endpoint);
    this.agent = new http.Agent({ keepAlive: true, maxFreeSockets: 4 });
    this.pingAgent = new http.Agent({ keepAlive: false });
  }

  async ping(timeoutMs = PING_TIMEOUT_MS): Promise<void> {
    const response = await this.send(`${LIBPOD_PREFIX}/_ping`, AbortSignal.timeout(timeoutMs), this.pingAgent);
    const body = await readBody(response, 1024);
    if (response.statusCode !== 200) throw errorOf(response, body);
  }

  inspect(ref: string, signal?: AbortSignal): Promise<LibpodInspect> {
    return this.getJson<LibpodInspect>(`${LIBPOD_PREFIX}/containers/${encodeURIComponent(ref)}/json`, signal);
  }

  /** `podman ps -a`; `id` narrows it to that one container (a full ID). */
  listContainers(signal?: AbortSignal, id?: string): Promise<LibpodContainerSummary[]> {
    const filter = id === undefined ? '' : `&filters=${encodeURIComponent(JSON.stringify({ id: [id] }))}`;
    return this.getJson<LibpodContainerSummary[]>(`${LIBPOD_PREFIX}/containers/json?all=true${filter}`, signal);
  }

  listPods(signal?: AbortSignal): Promise<LibpodPodSummary[]> {
    return this.getJson<LibpodPodSummary[]>(`${LIBPOD_PREFIX}/pods/json`, signal);
  }

  /**
   * Starts `GET /libpod/containers/{id}/logs` and resolves with the response once Podman
   * answered 200, before any of the body is read: the body is the caller's to pull (and
   * destroy). Only the wait for the headers is bounded; the body never times out.
   */
  openLogs(id: string, query: LibpodLogsQuery, signal: AbortSignal): Promise<IncomingMessage> {
    const params = new URLSearchParams(Object.entries(query).map(([key, value]) => [key, String(value)]));
    return this.openStream(`${LIBPOD_PREFIX}/containers/${encodeURIComponent(id)}/logs?${params}`, signal);
  }

  /**
   * Starts `GET /libpod/events?stream=true` and resolves with the response at its headers (Podman
   * sends them at once); the NDJSON body is the caller's to pull, and never times out.
   */
  openEvents(query: LibpodEventsQuery, signal: AbortSignal): Promise<IncomingMessage> {
    const params = new URLSearchParams({ stream: 'true', since: query.since, filters: JSON.stringify(query.filters) });
    return this.openStream(`${LIBPOD_PREFIX}/events?${params}`, signal);
  }

  /** Destroys every socket to the service, idle or in use. */
  close(): void {
    this.agent.destroy();
    this.pingAgent.destroy();
  }

  private async getJson<T>(path: string, signal: AbortSignal | undefined): Promise<T> {
    const bounded = this.bounded(signal);
    const response = await this.send(path, bounded);
    const body = await readBody(response, MAX_JSON_BYTES);
    if (response.statusCode !== 200) throw errorOf(response, body);
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch (err) {
      throw new LibpodError(response.statusCode ?? 0, `Podman answered ${path} with something that is not JSON`, {
        cause: err,
      });
    }
  }

  private async openStream(path: string, signal: AbortSignal): Promise<IncomingMessage> {
    const timeout = new EngineUnavailableError(
      `the Podman service did not answer a request within ${this.requestTimeoutMs} ms`,
    );
    const headers = new AbortController();
    const forward = () => headers.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener('abort', forward, { once: true });
    const timer = setTimeout(() => headers.abort(timeout), this.requestTimeoutMs);
    try {
      const response = await this.send(path, headers.signal).catch((err: unknown) => {
        throw headers.signal.reason === timeout ? timeout : err;
      });
      if (response.statusCode === 200) {
        // From here the caller's signal alone ends the body.
        signal.addEventListener('abort', () => response.destroy(), { once: true });
        return response;
      }
      throw errorOf(response, await readBody(response, 64 * 1024));
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', forward);
    }
  }

  /** Sends a GET; resolves with the response at its headers. `signal` aborts the request and its body. */
  private send(path: string, signal: AbortSignal, agent = this.agent): Promise<IncomingMessage> {
    const target =
      this.endpoint.kind === 'unix'
        ? { socketPath: this.endpoint.socketPath }
        : { host: this.endpoint.host, port: this.endpoint.port };
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = http.request({ ...target, path, method: 'GET', agent, signal });
      request.once('response', resolve);
      request.once('error', reject);
      request.end();
    });
  }

  /** The caller's signal (if any), bounded by the request timeout. */
  private bounded(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  }
}

async function readBody(response: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.destroy();
      throw new LibpodError(response.statusCode ?? 0, `Podman's answer is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Podman's error body is `{"cause", "message", "response"}`. */
function errorOf(response: IncomingMessage, body: Buffer): LibpodError {
  let message = body.toString('utf8').trim();
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') message = parsed.message;
  } catch {
    // not JSON: keep the text
  }
  return new LibpodError(response.statusCode ?? 0, message || `HTTP ${response.statusCode}`);
}
