import type { WebSocket } from 'ws';

/**
 * Pings every watched WebSocket each interval and terminates one that has been silent (no pong,
 * no message) for two intervals. One timer for all sockets, and none while nothing is watched.
 */
export class Heartbeat {
  private readonly lastHeard = new Map<WebSocket, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly onSilent: (ws: WebSocket) => void,
  ) {}

  watch(ws: WebSocket): void {
    const heard = () => this.lastHeard.has(ws) && this.lastHeard.set(ws, Date.now());
    ws.on('pong', heard);
    ws.on('message', heard);
    ws.once('close', () => this.unwatch(ws));
    this.lastHeard.set(ws, Date.now());
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  unwatch(ws: WebSocket): void {
    this.lastHeard.delete(ws);
    if (this.lastHeard.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    const silentSince = Date.now() - 2 * this.intervalMs;
    for (const [ws, heard] of this.lastHeard) {
      if (heard < silentSince) {
        this.unwatch(ws);
        this.onSilent(ws);
        continue;
      }
      try {
        ws.ping();
      } catch {
        // Not open any more; its 'close' unwatches it.
      }
    }
  }
}
