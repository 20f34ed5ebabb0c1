import { authSubprotocol } from './auth.js';

/** The JSON error every gateway route answers with (docs/api.md, "Errors"). */
export interface GatewayErrorBody {
  error?: { code?: string; message?: string };
}

/** A request the gateway answered with an error status. */
export class GatewayRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayRequestError';
  }
}

export const JSON_FRAMING = 'v1.json.enginegate';

/**
 * How the page talks to the gateway that served it: fetches carry `Authorization: Bearer`,
 * WebSockets (which cannot set headers) offer the token as the auth subprotocol beside the JSON
 * framing. The token is never put in a URL.
 */
export class GatewayApi {
  constructor(
    /** `http://host:port` of the page. */
    readonly origin: string,
    readonly token: string | null,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token === null ? extra : { ...extra, authorization: `Bearer ${this.token}` };
  }

  async getJson<T>(path: string): Promise<T> {
    const response = await fetch(this.origin + path, { headers: this.headers({ accept: 'application/json' }) });
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as T;
  }

  /** Only the status of a request (and its error, if any): the body is not read. */
  async probe(path: string): Promise<GatewayRequestError | null> {
    const abort = new AbortController();
    try {
      const response = await fetch(this.origin + path, { headers: this.headers(), signal: abort.signal });
      return response.ok ? null : await errorOf(response);
    } finally {
      abort.abort();
    }
  }

  /**
   * Reads an NDJSON body (`Accept: application/x-ndjson`) and hands over its records a chunk at a
   * time. Much faster than a WebSocket for a long history: Chromium pays per message, and here a
   * chunk carries hundreds of lines. Throws GatewayRequestError for an error status.
   */
  async readNdjson(path: string, onRecords: (records: unknown[]) => void, signal: AbortSignal): Promise<void> {
    const response = await fetch(this.origin + path, {
      headers: this.headers({ accept: 'application/x-ndjson' }),
      signal,
    });
    if (!response.ok || response.body === null) throw await errorOf(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let partial = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const lines = (partial + value).split('\n');
      partial = lines.pop() ?? '';
      const records: unknown[] = [];
      for (const line of lines) if (line !== '') records.push(JSON.parse(line));
      onRecords(records);
    }
  }

  socketUrl(path: string): string {
    return this.origin.replace(/^http/, 'ws') + path;
  }

  socketProtocols(): string[] {
    return this.token === null ? [JSON_FRAMING] : [JSON_FRAMING, authSubprotocol(this.token)];
  }
}

async function errorOf(response: Response): Promise<GatewayRequestError> {
  let body: GatewayErrorBody = {};
  try {
    body = (await response.json()) as GatewayErrorBody;
  } catch {
    // not the JSON error shape (a proxy's page): the status says enough
  }
  return new GatewayRequestError(
    response.status,
    body.error?.code ?? `HTTP_${response.status}`,
    body.error?.message ?? `${response.status} ${response.statusText}`,
  );
}
