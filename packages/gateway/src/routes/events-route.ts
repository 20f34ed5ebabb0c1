import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '@enginegate/plugin-api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { isAuthSubprotocol, offeredSubprotocols } from '../access-control.js';
import type { EngineManager } from '../engine-manager.js';
import type { EngineEvents } from '../events/engine-events.js';
import { eventsFramer, type EventsRecord } from '../events/events-records.js';
import type { Heartbeat } from '../logs/heartbeat.js';
import { HttpSink } from '../logs/http-sink.js';
import { CLOSE, type LogStream, type LogSink } from '../logs/log-stream.js';
import type { LogStreamRegistry } from '../logs/log-stream-registry.js';
import { openCountedStream, startStreamingResponse } from '../logs/stream-opening.js';
import { WebSocketSink } from '../logs/websocket-sink.js';
import type { GatewayMetrics } from '../metrics.js';

export const EVENTS_PATH = '/passthrough/engine/events';
const JSON_SUBPROTOCOL = 'v1.json.enginegate';

interface PreparedEvents {
  subprotocol: string | false;
  /** null: over the stream limit; a WebSocket is then closed 1013 right after the upgrade. */
  stream: LogStream<EventsRecord> | null;
  handOver(): void;
}

export interface EventsRouteDependencies {
  engines: EngineManager;
  events: EngineEvents;
  streams: LogStreamRegistry;
  heartbeat: Heartbeat;
  metrics: GatewayMetrics;
  highWaterMark: number;
  maxStreams: number;
}

/**
 * The subprotocol to answer: JSON is the only framing of events (`v1.json.enginegate`, or none);
 * a browser that offered only the auth subprotocol gets that one back.
 */
function eventsSubprotocol(header: string | string[] | undefined): string | false {
  const offers = offeredSubprotocols(header);
  const framings = offers.filter((p) => !isAuthSubprotocol(p));
  if (framings.length === 0) return offers.find(isAuthSubprotocol) ?? false;
  if (framings.includes(JSON_SUBPROTOCOL)) return JSON_SUBPROTOCOL;
  throw new InvalidArgumentError(
    'Sec-WebSocket-Protocol',
    `events are JSON only: offer ${JSON_SUBPROTOCOL}, or no framing subprotocol`,
  );
}

/**
 * `GET /passthrough/engine/events`: the active engine's containers (`present` records, then
 * `synced`) and its container events after them, over WebSocket (JSON text messages) or as
 * NDJSON. Runs on the log streams' machinery: counted, limited, and closed 1012 by an engine
 * switch like a log stream. Subscribing and listing happen in the preHandler, so that a
 * stopped engine is a 503 before any upgrade.
 */
export class EventsRoute {
  private readonly prepared = new WeakMap<IncomingMessage, PreparedEvents>();

  constructor(private readonly deps: EventsRouteDependencies) {}

  selectedSubprotocol(raw: IncomingMessage): string | false {
    return this.prepared.get(raw)?.subprotocol ?? false;
  }

  register(app: FastifyInstance): void {
    app.route({
      method: 'GET',
      url: EVENTS_PATH,
      exposeHeadRoute: false,
      preHandler: async (request, reply) => this.prepare(request, reply.raw),
      handler: async (request, reply) => {
        reply.hijack();
        await this.serveHttp(request, reply.raw);
      },
      wsHandler: (socket, request) => this.serveWebSocket(socket, request),
    });
  }

  private async prepare(request: FastifyRequest, response: NodeJS.EventEmitter): Promise<void> {
    const subprotocol = request.ws ? eventsSubprotocol(request.headers['sec-websocket-protocol']) : false;
    const opened = await openCountedStream<EventsRecord>({
      ...this.deps,
      request,
      response: request.ws ? request.raw.socket : response,
      framing: 'json',
      description: '(events)',
      what: 'its events',
      open: (snapshot, signal) => this.deps.events.open(snapshot.engine, signal),
    });
    this.prepared.set(request.raw, {
      subprotocol,
      stream: opened?.stream ?? null,
      handOver: opened?.handOver ?? (() => undefined),
    });
  }

  private async serveHttp(request: FastifyRequest, response: ServerResponse): Promise<void> {
    const { stream } = this.take(request);
    if (stream === null) return void response.destroy();
    startStreamingResponse(response, 'json');
    this.deps.metrics.streamOpened('http', 'json');
    const sink = new HttpSink(response, 'json', this.deps.highWaterMark, (bytes) =>
      this.deps.metrics.bytesSentFor('http', 'json', bytes),
    );
    await this.run(request, stream, sink);
  }

  private async serveWebSocket(socket: WebSocket, request: FastifyRequest): Promise<void> {
    const { stream } = this.take(request);
    const { metrics, heartbeat, highWaterMark, maxStreams } = this.deps;
    if (stream === null) {
      socket.close(CLOSE.tryAgainLater, `too many open streams (limit ${maxStreams})`);
      return;
    }
    heartbeat.watch(socket);
    socket.once('close', () => stream.clientGone());
    metrics.streamOpened('websocket', 'json');
    const sink = new WebSocketSink(socket, highWaterMark, (bytes) => metrics.bytesSentFor('websocket', 'json', bytes));
    await this.run(request, stream, sink);
  }

  private take(request: FastifyRequest): PreparedEvents {
    const prepared = this.prepared.get(request.raw);
    this.prepared.delete(request.raw);
    if (prepared === undefined) throw new Error('events handler ran without its preHandler');
    prepared.handOver();
    return prepared;
  }

  private async run(request: FastifyRequest, stream: LogStream<EventsRecord>, sink: LogSink): Promise<void> {
    try {
      const end = await stream.run(eventsFramer, sink);
      const context = { engine: stream.init.engine, transport: stream.init.transport, end: end.kind };
      if (end.kind === 'engine-lost' || end.kind === 'engine-error') {
        request.log.warn({ ...context, reason: end.reason }, 'events stream ended by the engine');
        if (end.kind === 'engine-lost') this.deps.engines.checkHealthNow();
      } else request.log.debug(context, 'events stream ended');
    } finally {
      this.deps.streams.delete(stream);
    }
  }
}
