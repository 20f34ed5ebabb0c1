import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import WebSocket from 'ws';
import { GatewayResponseError, GatewayUnreachableError, UsageError } from './cli-errors.js';

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:7070';

/** Requests other than the log stream: long enough for `PUT /engine` to start an engine. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Error bodies are small JSON objects; never buffer more than this of one. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Where the gateway listens: an http(s) base URL, or a unix socket (`unix:/path/to.sock`). */
export interface GatewayAddress {
  /** As messages show it, e.g. `http://127.0.0.1:7070` or `unix:/run/enginegate.sock`. */
  display: string;
  /** For TCP: the base URL. */
  baseUrl?: URL;
  /** The base URL's path without a trailing slash ('' for the root); routes are appended. */
  basePath: string;
  /** For a unix socket: its path. */
  socketPath?: string;
}

export function parseGatewayAddress(text: string): GatewayAddress {
  if (text.startsWith('unix:')) {
    // Accept `unix:/p` and `unix:///p` alike.
    const socketPath = text.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (socketPath.length === 0) throw new UsageError(`--url ${text}: the unix socket path is empty`);
    if (socketPath.includes(':')) throw new UsageError(`--url ${text}: a unix socket path cannot contain ':'`);
    return { display: `unix:${socketPath}`, socketPath, basePath: '' };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `--url ${JSON.stringify(text)} is not a URL (e.g. ${DEFAULT_GATEWAY_URL} or unix:/path/to.sock)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url ${text}: use http://, https:// or unix:`);
  }
  if (url.search || url.hash) throw new UsageError(`--url ${text}: a gateway URL has no query or fragment`);
  const basePath = url.pathname.replace(/\/+$/, '');
  return { display: `${url.origin}${basePath}`, baseUrl: url, basePath };
}

/** A token and where it came from, so that a 401 can say where to look. */
export interface ResolvedToken {
  token: string | undefined;
  /** e.g. `--token`, `ENGINEGATE_TOKEN`, `the token file /x/token`, or where none was found. */
  origin: string;
}

/**
 * `--token`, else `ENGINEGATE_TOKEN`, else the token file the gateway wrote in the state directory
 * (`--state-dir`, else the gateway's default). No token at all is not an error here: a gateway run
 * with `--no-auth` needs none, and one that does answers 401, which names the places looked at.
 */
export async function resolveToken(options: {
  flag?: string;
  env?: NodeJS.ProcessEnv;
  stateDir?: string;
}): Promise<ResolvedToken> {
  const env = options.env ?? process.env;
  if (options.flag !== undefined) return { token: options.flag, origin: '--token' };
  if (env.ENGINEGATE_TOKEN) return { token: env.ENGINEGATE_TOKEN, origin: 'ENGINEGATE_TOKEN' };
  // The gateway owns the state-directory rules. Its ./state-dir entry holds only them: the whole
  // gateway (fastify, ajv) would double the start of every client command.
  const { defaultStateDir, readTokenFile } = await import('@enginegate/gateway/state-dir');
  const stateDir = options.stateDir ?? defaultStateDir();
  const file = join(stateDir, 'token');
  let token: string | null;
  try {
    token = readTokenFile(stateDir);
  } catch (err) {
    return { token: undefined, origin: `the token file ${file}, which cannot be read (${errorCode(err)})` };
  }
  if (token) return { token, origin: `the token file ${file}` };
  return { token: undefined, origin: `--token, ENGINEGATE_TOKEN and ${file} (none found)` };
}

/** A JSON error body as the gateway sends it: `{ "error": { "code", "message" } }`. */
interface ErrorBody {
  error?: { code?: unknown; message?: unknown };
}

export interface ErrorResponse {
  statusCode: number;
  body: Buffer;
}

/** Talks to one gateway: JSON requests and log WebSockets, with errors as one-line CliErrors. */
export class GatewayClient {
  constructor(
    readonly address: GatewayAddress,
    readonly token: ResolvedToken,
  ) {}

  async getJson<T>(path: string): Promise<T> {
    return this.requestJson<T>('GET', path);
  }

  async putJson<T>(path: string, body: unknown): Promise<T> {
    return this.requestJson<T>('PUT', path, body);
  }

  private requestJson<T>(method: string, path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json', ...this.authHeader() };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    return new Promise<T>((resolve, reject) => {
      const req = this.httpRequest({ method, path, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => reject(this.unreachable(err)));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const statusCode = res.statusCode ?? 0;
          if (statusCode < 200 || statusCode >= 300) {
            reject(this.responseError({ statusCode, body: raw }));
            return;
          }
          try {
            resolve(JSON.parse(raw.toString('utf8')) as T);
          } catch {
            reject(
              new GatewayResponseError(
                `the gateway at ${this.address.display} sent a body that is not JSON for ${method} ${path}`,
                statusCode,
                undefined,
              ),
            );
          }
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(this.unreachable(err)));
      req.end(payload);
    });
  }

  private httpRequest(
    options: http.RequestOptions,
    onResponse: (res: http.IncomingMessage) => void,
  ): http.ClientRequest {
    const { baseUrl, socketPath } = this.address;
    if (socketPath !== undefined) return http.request({ ...options, socketPath }, onResponse);
    const transport = baseUrl!.protocol === 'https:' ? https : http;
    return transport.request(
      {
        ...options,
        protocol: baseUrl!.protocol,
        hostname: baseUrl!.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: baseUrl!.port || (baseUrl!.protocol === 'https:' ? 443 : 80),
        path: this.address.basePath + options.path,
      },
      onResponse,
    );
  }

  /**
   * Opens the logs WebSocket (`v1.json.enginegate` framing, or `v1.binary.enginegate`): a
   * container's logs, or (`container` undefined) a merged stream that `query` selects.
   */
  openLogSocket(container: string | undefined, query: URLSearchParams, framing: 'json' | 'binary' = 'json'): WebSocket {
    const route = container === undefined ? '' : `/${encodeURIComponent(container)}`;
    return this.openSocket(`/passthrough/engine/logs${route}?${query}`, `v1.${framing}.enginegate`);
  }

  /** Opens `GET /passthrough/engine/events` as a WebSocket (JSON messages). */
  openEventsSocket(): WebSocket {
    return this.openSocket('/passthrough/engine/events');
  }

  private openSocket(path: string, protocol = 'v1.json.enginegate'): WebSocket {
    const { baseUrl, socketPath } = this.address;
    const url =
      socketPath !== undefined
        ? `ws+unix:${socketPath}:${path}`
        : `${baseUrl!.protocol === 'https:' ? 'wss' : 'ws'}://${baseUrl!.host}${this.address.basePath}${path}`;
    return new WebSocket(url, [protocol], {
      headers: this.authHeader(),
      perMessageDeflate: false,
      handshakeTimeout: REQUEST_TIMEOUT_MS,
    });
  }

  private authHeader(): Record<string, string> {
    return this.token.token === undefined ? {} : { authorization: `Bearer ${this.token.token}` };
  }

  /** The one-line error for a non-2xx answer (before or instead of a WebSocket upgrade). */
  responseError({ statusCode, body }: ErrorResponse): GatewayResponseError {
    let parsed: ErrorBody | undefined;
    try {
      parsed = JSON.parse(body.subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8')) as ErrorBody;
    } catch {
      parsed = undefined;
    }
    const code = typeof parsed?.error?.code === 'string' ? parsed.error.code : undefined;
    const message = typeof parsed?.error?.message === 'string' ? parsed.error.message : undefined;
    if (statusCode === 401) {
      const what = this.token.token === undefined ? 'needs a token' : 'refused the token';
      return new GatewayResponseError(
        `the gateway at ${this.address.display} ${what} (looked at ${this.token.origin}); ` +
          "pass --token, set ENGINEGATE_TOKEN, or point --state-dir at the gateway's state directory",
        statusCode,
        code ?? 'UNAUTHORIZED',
      );
    }
    if (message !== undefined) {
      return new GatewayResponseError(code ? `${message} (${code})` : message, statusCode, code);
    }
    return new GatewayResponseError(
      `the gateway at ${this.address.display} answered HTTP ${statusCode}`,
      statusCode,
      code,
    );
  }

  unreachable(err: unknown): GatewayUnreachableError {
    const code = errorCode(err);
    if (code === 'ECONNREFUSED' || code === 'ENOENT') {
      return new GatewayUnreachableError(
        `cannot reach the gateway at ${this.address.display} (is \`enginegate serve\` running?)`,
      );
    }
    return new GatewayUnreachableError(`cannot reach the gateway at ${this.address.display}: ${code}`);
  }
}

function errorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string') return message;
  }
  return String(err);
}

/** Reads at most `limit` bytes of a response body (the rest is discarded). */
export function readBody(res: http.IncomingMessage, limit = MAX_ERROR_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (size < limit) chunks.push(chunk);
      size += chunk.length;
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', () => resolve(Buffer.concat(chunks)));
  });
}
