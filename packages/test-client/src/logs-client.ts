import { request as httpRequest } from 'node:http';
import { FRAMING_PROTOCOL, HttpStatusError, LogSocket, type Framing, type ReceivedMessage } from './log-socket.js';

export type LogQuery = Record<string, string | number | boolean | undefined>;
/** A merged stream's query: arrays repeat a parameter. */
export type MergedQuery = Record<string, string | number | boolean | readonly string[] | undefined>;

/** A whole HTTP answer. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  /**
   * The body parsed as JSON; the text when it is not JSON; undefined when empty. Typed loosely
   * on purpose: tests take answers apart field by field.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  json: any;
}

export interface HttpLogResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** Body chunks with their arrival times, to see that lines were not held back. */
  chunks: ReceivedMessage[];
}

/**
 * Talks to one gateway over WebSocket and plain HTTP, as a client would: the one client that
 * enginegate's suites and the testkit use. Every request carries `Authorization: Bearer
 * <token>` unless the client has no token (or `headers` replace it, e.g. with `''`).
 */
/** A record of a merged stream in the JSON framing (docs/api.md, "Merged streams"). */
export interface MergedJsonRecord {
  type: string;
  container?: string;
  name?: string;
  index?: number;
  time?: string;
  line?: string;
  cursor?: string;
  exitCode?: number;
}

export class LogsClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  /** `path` (with its query) on the gateway, as an http(s) or ws(s) URL. */
  url(path: string, scheme: 'http' | 'ws' = 'http'): string {
    const url = new URL(path, this.baseUrl);
    if (scheme === 'ws') url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }

  logsUrl(ref: string, query: LogQuery = {}, scheme: 'http' | 'ws' = 'http'): string {
    const url = new URL(this.url(`/passthrough/engine/logs/${ref}`, scheme));
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.href;
  }

  /**
   * The merged logs route, `/passthrough/engine/logs?…`: an array value repeats its parameter
   * (`container: ['a', 'b']` → `container=a&container=b`).
   */
  mergedLogsUrl(query: MergedQuery, scheme: 'http' | 'ws' = 'http'): string {
    const url = new URL(this.url('/passthrough/engine/logs', scheme));
    for (const [key, value] of Object.entries(query)) {
      for (const one of Array.isArray(value) ? value : [value]) {
        if (one !== undefined) url.searchParams.append(key, String(one));
      }
    }
    return url.href;
  }

  /** The merged history of `query` (`follow=false`) as NDJSON, one record a line. */
  async mergedHistory(query: MergedQuery): Promise<{ status: number; records: MergedJsonRecord[] }> {
    const url = new URL(this.mergedLogsUrl({ ...query, follow: false }));
    const answer = await this.get(`${url.pathname}${url.search}`, { accept: 'application/x-ndjson' });
    const records = answer.text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as MergedJsonRecord);
    return { status: answer.status, records };
  }

  /** A merged WebSocket log stream, opened at once, offering `protocols`; see LogSocket.opened. */
  mergedSocket(query: MergedQuery, protocols: readonly string[] = []): LogSocket {
    return new LogSocket(this.mergedLogsUrl(query, 'ws'), protocols, this.headers());
  }

  /** A WebSocket to any path (query included), opened at once; see LogSocket.opened. */
  socket(path: string, protocols: readonly string[] = [], headers: Record<string, string> = {}): LogSocket {
    return new LogSocket(this.url(path, 'ws'), protocols, this.headers(headers));
  }

  /** A WebSocket log stream of `ref`, opened at once, offering `protocols`; see LogSocket.opened. */
  logsSocket(ref: string, query: LogQuery = {}, protocols: readonly string[] = []): LogSocket {
    return new LogSocket(this.logsUrl(ref, query, 'ws'), protocols, this.headers());
  }

  /**
   * Opens a WebSocket log stream. Rejects with HttpStatusError when the gateway answers the
   * upgrade with a status (400, 404, 503...). `protocols` overrides the framing's offer.
   */
  async openSocket(ref: string, query: LogQuery, framing: Framing, protocols?: string[]): Promise<LogSocket> {
    const offer = protocols ?? (FRAMING_PROTOCOL[framing] === undefined ? [] : [FRAMING_PROTOCOL[framing]]);
    const stream = this.logsSocket(ref, query, offer);
    await stream.opened;
    return stream;
  }

  /** Reads a stream to its end (the gateway's close); throws when it does not end in `timeoutMs`. */
  async readSocket(
    ref: string,
    query: LogQuery,
    framing: Framing,
    timeoutMs = 10_000,
  ): Promise<{ messages: ReceivedMessage[]; close: { code: number; reason: string }; protocol: string }> {
    const stream = await this.openSocket(ref, query, framing);
    const close = await stream.waitClosed(timeoutMs);
    return { messages: stream.messages, close, protocol: stream.protocol };
  }

  /** An upgrade the gateway must refuse: its status, headers and body. Rejects if it was accepted. */
  async refusedUpgrade(
    path: string,
    protocols: readonly string[] = [],
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> {
    const socket = this.socket(path, protocols, headers);
    try {
      await socket.opened;
    } catch (err) {
      if (!(err instanceof HttpStatusError)) throw err;
      const body = Buffer.from(err.body);
      return { status: err.status, headers: toHeaders(err.headers), body, ...parsed(body) };
    }
    socket.socket.terminate();
    throw new Error(`the upgrade to ${path} was accepted`);
  }

  /**
   * Any request to the gateway, on a connection of its own (no keep-alive socket outlives it).
   * A string body is sent as it is (malformed JSON, say), any other body as JSON; either is
   * `application/json` unless `headers` name another content type.
   */
  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    const all = this.headers(headers);
    const payload = typeof body === 'string' || body === undefined ? body : JSON.stringify(body);
    if (payload !== undefined && !Object.keys(all).some((name) => name.toLowerCase() === 'content-type')) {
      all['content-type'] = 'application/json';
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        this.url(path),
        { method, headers: all, agent: false, signal: AbortSignal.timeout(15_000) },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (chunk: Buffer) => parts.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const answer = Buffer.concat(parts);
            resolve({ status: res.statusCode ?? 0, headers: toHeaders(res.headers), body: answer, ...parsed(answer) });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  get(path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    return this.request('GET', path, undefined, headers);
  }

  /** GETs the logs route without an upgrade and reads the body to its end. */
  async readHttp(
    ref: string,
    query: LogQuery,
    options: { accept?: string; timeoutMs?: number; headers?: Record<string, string> } = {},
  ): Promise<HttpLogResponse> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 10_000);
    try {
      const response = await this.fetchLogs(ref, query, options, controller.signal);
      const chunks: ReceivedMessage[] = [];
      if (response.body) {
        for await (const chunk of response.body) {
          chunks.push({ data: Buffer.from(chunk), isBinary: true, at: performance.now() });
        }
      }
      return {
        status: response.status,
        headers: response.headers,
        body: Buffer.concat(chunks.map((chunk) => chunk.data)),
        chunks,
      };
    } catch (err) {
      if (controller.signal.aborted) {
        throw new Error(`plain HTTP logs of ${ref} did not end within ${options.timeoutMs ?? 10_000} ms`, {
          cause: err,
        });
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a plain HTTP logs request; the caller reads (and aborts) the body. */
  fetchLogs(
    ref: string,
    query: LogQuery,
    options: { accept?: string; headers?: Record<string, string> },
    signal: AbortSignal,
  ): Promise<Response> {
    const headers = this.headers(options.headers);
    if (options.accept) headers['accept'] = options.accept;
    return fetch(this.logsUrl(ref, query), { headers, signal });
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token === undefined ? { ...extra } : { authorization: `Bearer ${this.token}`, ...extra };
  }
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
  }
  return headers;
}

function parsed(body: Buffer): { text: string; json: unknown } {
  const text = body.toString('utf8');
  if (text.length === 0) return { text, json: undefined };
  try {
    return { text, json: JSON.parse(text) };
  } catch {
    return { text, json: text };
  }
}
