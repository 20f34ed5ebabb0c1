import WebSocket from 'ws';

/** `Sec-WebSocket-Protocol` values of the four framings; `raw` offers none. */
export const FRAMING_PROTOCOL = {
  raw: undefined,
  text: 'v1.text.enginegate',
  json: 'v1.json.enginegate',
  binary: 'v1.binary.enginegate',
} as const;
export type Framing = keyof typeof FRAMING_PROTOCOL;
export const FRAMINGS: readonly Framing[] = ['raw', 'text', 'json', 'binary'];

export type LogQuery = Record<string, string | number | boolean | undefined>;

export interface ReceivedMessage {
  data: Buffer;
  isBinary: boolean;
  /** performance.now() when it arrived. */
  at: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

/** The gateway answered an HTTP status instead of the upgrade or stream the client asked for. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 300)}`);
    this.name = 'HttpStatusError';
  }

  /** The `{ error: { code, message } }` body, or undefined when the body is not that shape. */
  get error(): { code: string; message: string } | undefined {
    try {
      const parsed = JSON.parse(this.body) as { error?: { code?: unknown; message?: unknown } };
      const { code, message } = parsed.error ?? {};
      return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined;
    } catch {
      return undefined;
    }
  }
}

/** One open WebSocket log stream: messages accumulate as they arrive. */
export class LogSocket {
  readonly messages: ReceivedMessage[] = [];
  /** Resolves when the socket closes, with the close code the gateway sent. */
  readonly closed: Promise<CloseInfo>;
  private waiters = new Set<() => void>();
  private closeInfo: CloseInfo | undefined;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.messages.push({ data, isBinary, at: performance.now() });
      this.notify();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.notify();
        resolve(this.closeInfo);
      });
    });
    // Errors after the upgrade end in 'close' too; without a listener ws would throw.
    socket.on('error', () => {});
  }

  /** The subprotocol the gateway picked ('' for none). */
  get protocol(): string {
    return this.socket.protocol;
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  /** Waits until `predicate(messages)` holds; throws when the socket closes first or after `timeoutMs`. */
  async waitFor(predicate: (messages: ReceivedMessage[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (predicate(this.messages)) return;
      if (this.closeInfo) {
        throw new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) before ${what}`);
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const waiters = this.waiters;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  /** Waits for the close; on timeout terminates the socket and throws. */
  async waitClosed(timeoutMs = 10_000): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.socket.terminate();
        reject(
          new Error(
            `the gateway did not close the stream within ${timeoutMs} ms (${this.messages.length} messages so far)`,
          ),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes from the client side, as a browser tab going away does. */
  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(1000);
    }
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export interface HttpLogResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  /** Body chunks with their arrival times, to see that lines were not held back. */
  chunks: ReceivedMessage[];
}

/** Talks to one gateway's logs route over WebSocket and plain HTTP, as a client would. */
export class LogsClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  logsUrl(ref: string, query: LogQuery = {}, scheme: 'http' | 'ws' = 'http'): string {
    const url = new URL(`/passthrough/engine/logs/${ref}`, this.baseUrl);
    if (scheme === 'ws') url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.href;
  }

  /**
   * Opens a WebSocket log stream. Rejects with HttpStatusError when the gateway answers the
   * upgrade with a status (400, 404, 503...). `protocols` overrides the framing's offer.
   */
  openSocket(ref: string, query: LogQuery, framing: Framing, protocols?: string[]): Promise<LogSocket> {
    const offer = protocols ?? (FRAMING_PROTOCOL[framing] === undefined ? [] : [FRAMING_PROTOCOL[framing]]);
    const socket = new WebSocket(this.logsUrl(ref, query, 'ws'), offer, {
      headers: { authorization: `Bearer ${this.token}` },
      handshakeTimeout: 10_000,
    });
    const stream = new LogSocket(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(stream));
      socket.once('unexpected-response', (_request, response) => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('end', () => {
          reject(new HttpStatusError(response.statusCode ?? 0, response.headers, Buffer.concat(parts).toString()));
          socket.terminate();
        });
        response.on('error', reject);
      });
      socket.once('error', reject);
    });
  }

  /** Reads a stream to its end (the gateway's close); throws when it does not end in `timeoutMs`. */
  async readSocket(
    ref: string,
    query: LogQuery,
    framing: Framing,
    timeoutMs = 10_000,
  ): Promise<{ messages: ReceivedMessage[]; close: CloseInfo; protocol: string }> {
    const stream = await this.openSocket(ref, query, framing);
    const close = await stream.waitClosed(timeoutMs);
    return { messages: stream.messages, close, protocol: stream.protocol };
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
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...options.headers };
    if (options.accept) headers['accept'] = options.accept;
    return fetch(this.logsUrl(ref, query), { headers, signal });
  }

  /** Any authenticated request to the gateway, e.g. `PUT /engine`. */
  async request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; json: unknown }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: response.status, headers: response.headers, json };
  }
}
