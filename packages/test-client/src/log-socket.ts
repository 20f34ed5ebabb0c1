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

export interface ReceivedMessage {
  data: Buffer;
  isBinary: boolean;
  /** performance.now() when it arrived (`performance.timeOrigin + at` is a wall-clock time). */
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

/**
 * One WebSocket to the gateway, opened at construction: every message is recorded with its
 * arrival time, and the close with its code. `opened` rejects with an HttpStatusError when the
 * gateway answers the upgrade with a status (400, 401, 404, 503...).
 */
export class LogSocket {
  readonly socket: WebSocket;
  readonly messages: ReceivedMessage[] = [];
  readonly opened: Promise<void>;
  /** Resolves when the socket closes, with the close code the gateway sent. */
  readonly closed: Promise<CloseInfo>;
  private readonly waiters = new Set<() => void>();
  private closeInfo: CloseInfo | undefined;

  constructor(url: string, protocols: readonly string[] = [], headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, [...protocols], { headers, handshakeTimeout: 10_000 });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('unexpected-response', (_request, response) => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('end', () => {
          reject(new HttpStatusError(response.statusCode ?? 0, response.headers, Buffer.concat(parts).toString()));
          this.socket.terminate();
        });
        response.on('error', reject);
      });
      this.socket.once('error', reject);
    });
    // A caller that only awaits `closed` must not see an unhandled rejection.
    this.opened.catch(() => undefined);
    this.socket.on('message', (data: Buffer, isBinary: boolean) => {
      this.messages.push({ data, isBinary, at: performance.now() });
      this.notify();
    });
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code: number, reason: Buffer) => {
        this.closeInfo = { code, reason: reason.toString() };
        this.notify();
        resolve(this.closeInfo);
      });
    });
    // Errors after the upgrade end in 'close' too; without a listener ws would throw.
    this.socket.on('error', () => {});
  }

  /** The subprotocol the gateway picked ('' for none). */
  get protocol(): string {
    return this.socket.protocol;
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined;
  }

  /** The messages as UTF-8 text. */
  texts(): string[] {
    return this.messages.map((message) => message.data.toString('utf8'));
  }

  /**
   * The messages parsed as JSON (the `v1.json.enginegate` framing). Typed loosely on purpose:
   * tests take the objects apart field by field.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  jsonMessages(): any[] {
    return this.texts().map((text) => JSON.parse(text) as unknown);
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
      await this.nextEvent(left);
    }
  }

  /**
   * Resolves once `count` messages arrived or the socket closed (the caller then checks what
   * came); throws after `timeoutMs` without either.
   */
  async waitForMessages(count: number, timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.messages.length < count && !this.closeInfo) {
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(`timed out after ${timeoutMs} ms with ${this.messages.length} of ${count} messages`);
      await this.nextEvent(left);
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
  close(code = 1000): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code);
    }
  }

  /** Resolves at the next message or close, or after `ms`. */
  private nextEvent(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiters = this.waiters;
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
