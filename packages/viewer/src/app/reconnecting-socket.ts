import type { GatewayApi, GatewayRequestError } from './gateway-api.js';

export type SocketPhase = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

export interface SocketStatus {
  phase: SocketPhase;
  /** In words, for the status bar: why it reconnects, what failed. */
  detail: string;
}

/** Why the previous connection ended, as the next successful open reports it. */
export type ConnectionLoss = 'engine' | 'network';

/** Close codes the gateway uses (docs/api.md, "Close codes"). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_ENGINE_SWITCHED = 1012;

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
/** After 1012 the next engine may already be up: try again almost at once. */
const ENGINE_SWITCH_RETRY_MS = 150;

export interface ReconnectingSocketOptions {
  api: GatewayApi;
  /** The path and query of the next attempt: asked before each one, so that a resume can add `after=`. */
  path: () => string;
  /** A path a plain fetch can ask to learn why a handshake failed (a browser hides the status of a refused WebSocket). */
  probePath: () => string;
  onMessage: (record: unknown) => void;
  /** Every open; `loss` is why the connection before it ended (null for the first). */
  onOpen: (loss: ConnectionLoss | null) => void;
  onStatus: (status: SocketStatus) => void;
  /** Close 1000: the stream is complete. */
  onEnd: () => void;
  /** A refusal that retrying cannot fix: no or a wrong token (401), origin (403), no such container (404)… */
  onFailure: (error: GatewayRequestError) => void;
}

/**
 * A JSON-framed WebSocket to the gateway that comes back after an engine switch (1012) or a lost
 * connection, with growing pauses (250 ms to 5 s), until stop() or a refusal retrying cannot fix.
 */
export class ReconnectingSocket {
  private socket: WebSocket | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempts = 0;
  private pendingLoss: ConnectionLoss | null = null;
  private stopped = false;
  private everOpened = false;

  constructor(private readonly options: ReconnectingSocketOptions) {}

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (socket !== null && socket.readyState <= WebSocket.OPEN) socket.close(CLOSE_NORMAL);
  }

  /** Drops the connection as a network failure would (used when the page comes back online). */
  reconnectNow(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.attempts = 0;
    if (this.socket !== null && this.socket.readyState <= WebSocket.OPEN) this.socket.close(4000, 'reconnect');
    else this.connect();
  }

  private connect(): void {
    const { api, onStatus } = this.options;
    onStatus({ phase: this.everOpened ? 'reconnecting' : 'connecting', detail: 'connecting…' });
    const socket = new WebSocket(api.socketUrl(this.options.path()), api.socketProtocols());
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.everOpened = true;
      this.attempts = 0;
      onStatus({ phase: 'live', detail: 'live' });
      const loss = this.pendingLoss;
      this.pendingLoss = null;
      this.options.onOpen(loss);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      let record: unknown;
      try {
        record = JSON.parse(event.data);
      } catch {
        return; // not the JSON framing: nothing the page can show
      }
      this.options.onMessage(record);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      if (event.code === CLOSE_NORMAL) {
        onStatus({ phase: 'ended', detail: 'ended' });
        this.options.onEnd();
      } else if (!opened) {
        void this.diagnose();
      } else if (event.code === CLOSE_ENGINE_SWITCHED) {
        this.pendingLoss = 'engine';
        this.retry('the engine was switched', ENGINE_SWITCH_RETRY_MS);
      } else {
        this.pendingLoss = 'network';
        this.retry(event.reason ? `connection lost: ${event.reason}` : `connection lost (${event.code})`);
      }
    };
  }

  /** The handshake was refused: a plain request says why, and whether trying again can help. */
  private async diagnose(): Promise<void> {
    let error: GatewayRequestError | null;
    try {
      error = await this.options.api.probe(this.options.probePath());
    } catch {
      if (!this.stopped) this.retry('the gateway does not answer');
      return;
    }
    if (this.stopped) return;
    if (error === null) this.retry('retrying');
    else if (error.status >= 500 || error.status === 429) this.retry(error.message);
    else {
      this.options.onStatus({ phase: 'failed', detail: error.message });
      this.options.onFailure(error);
    }
  }

  private retry(why: string, delayMs?: number): void {
    this.attempts++;
    const delay = delayMs ?? Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.attempts - 1));
    this.options.onStatus({ phase: 'reconnecting', detail: `${why}; reconnecting…` });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }
}
