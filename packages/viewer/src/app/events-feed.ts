import { ContainerDirectory, type ContainerInfo, type EventRecord } from './container-directory.js';
import type { GatewayApi, GatewayRequestError } from './gateway-api.js';
import { ReconnectingSocket, type SocketStatus } from './reconnecting-socket.js';

export const EVENTS_PATH = '/passthrough/engine/events';
export const CONTAINERS_PATH = '/passthrough/engine/containers';
/** Only for a gateway without the events route: how often the list is fetched again. */
const POLL_INTERVAL_MS = 2000;

/**
 * The container list, live: the events stream's `present` records are gathered until `synced`
 * and then replace the list at once (no flicker on a reconnect), later records apply one by one.
 * After an engine switch (1012) the stream is opened again and lists the new engine's containers.
 */
export class EventsFeed {
  readonly directory = new ContainerDirectory();
  status: SocketStatus = { phase: 'connecting', detail: 'connecting…' };
  failure: GatewayRequestError | null = null;
  /** Bumped on every (re)open: the engine may have changed. */
  generation = 0;
  private staging: ContainerInfo[] | null = null;
  private readonly socket: ReconnectingSocket;
  private readonly listeners = new Set<() => void>();
  private pollTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly api: GatewayApi) {
    this.socket = new ReconnectingSocket({
      api,
      path: () => EVENTS_PATH,
      probePath: () => CONTAINERS_PATH,
      onMessage: (record) => this.onRecord(record as EventRecord),
      onOpen: () => {
        this.staging = [];
        this.generation++;
        this.changed();
      },
      onStatus: (status) => {
        this.status = status;
        this.changed();
      },
      // The events stream does not end by itself; if it does, the list is fetched once more.
      onEnd: () => void this.poll(false),
      onFailure: (error) => {
        this.failure = error;
        this.changed();
      },
    });
  }

  start(): void {
    void this.chooseSource();
  }

  stop(): void {
    this.stopped = true;
    this.socket.stop();
    clearTimeout(this.pollTimer);
    this.listeners.clear();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** A gateway without the events route (404 NOT_FOUND) gets polled instead. */
  private async chooseSource(): Promise<void> {
    let error: GatewayRequestError | null = null;
    try {
      error = await this.api.probe(EVENTS_PATH);
    } catch {
      // unreachable: the socket's own retries report it
    }
    if (this.stopped) return;
    if (error?.status === 404 && error.code === 'NOT_FOUND') void this.poll(true);
    else this.socket.start();
  }

  private async poll(repeat: boolean): Promise<void> {
    try {
      this.directory.replaceAll(await this.api.getJson<ContainerInfo[]>(CONTAINERS_PATH));
      this.status = { phase: 'live', detail: `polled every ${POLL_INTERVAL_MS / 1000} s (no events route)` };
      this.failure = null;
    } catch (err) {
      const error = err as GatewayRequestError;
      if (error.status === 401 || error.status === 403) this.failure = error;
      this.status = { phase: 'reconnecting', detail: error.message };
    }
    this.changed();
    if (repeat && !this.stopped) this.pollTimer = setTimeout(() => void this.poll(true), POLL_INTERVAL_MS);
  }

  private onRecord(record: EventRecord): void {
    if (this.staging !== null) {
      if (record.type === 'container' && record.action === 'present') {
        this.staging.push(record.container);
        return;
      }
      if (record.type === 'synced') {
        this.directory.replaceAll(this.staging);
        this.staging = null;
        this.changed();
        return;
      }
    }
    if (this.directory.apply(record)) this.changed();
  }
}
