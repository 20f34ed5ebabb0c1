import { Counter, Gauge, Registry } from './prometheus.js';
import type { EngineState } from '@enginegate/plugin-api';
import type { FramingName } from './logs/log-framing.js';

export type StreamTransport = 'websocket' | 'http';

const ENGINE_STATES: readonly EngineState[] = ['stopped', 'starting', 'running', 'unavailable'];

/** Prometheus metrics of one gateway, in its own Registry (two gateways in one process share nothing). */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly streamsTotal: Counter<'transport' | 'framing'>;
  private readonly bytesSent: Counter<'transport' | 'framing'>;
  private readonly engineState: Gauge<'engine' | 'state'>;

  constructor(openStreams: () => number) {
    new Gauge({
      name: 'enginegate_open_streams',
      help: 'Log streams open now (WebSocket and HTTP)',
      registers: [this.registry],
      collect() {
        this.set(openStreams());
      },
    });
    this.streamsTotal = new Counter({
      name: 'enginegate_streams_total',
      help: 'Log streams opened, by transport (websocket, http) and framing',
      labelNames: ['transport', 'framing'],
      registers: [this.registry],
    });
    this.bytesSent = new Counter({
      name: 'enginegate_bytes_sent_total',
      help: 'Log bytes handed to client sockets, by transport and framing',
      labelNames: ['transport', 'framing'],
      registers: [this.registry],
    });
    this.engineState = new Gauge({
      name: 'enginegate_engine_state',
      help: 'The active engine and its state: 1 for the current state, 0 for the others',
      labelNames: ['engine', 'state'],
      registers: [this.registry],
    });
    this.setEngineState(null, 'stopped');
  }

  streamOpened(transport: StreamTransport, framing: FramingName): void {
    this.streamsTotal.inc({ transport, framing });
  }

  bytesSentFor(transport: StreamTransport, framing: FramingName, bytes: number): void {
    this.bytesSent.inc({ transport, framing }, bytes);
  }

  setEngineState(engine: string | null, state: EngineState): void {
    this.engineState.reset();
    for (const s of ENGINE_STATES) this.engineState.set({ engine: engine ?? 'none', state: s }, s === state ? 1 : 0);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
