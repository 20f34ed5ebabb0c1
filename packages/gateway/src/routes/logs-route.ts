import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '@enginegate/plugin-api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { EngineManager } from '../engine-manager.js';
import { RepeatedWarnings } from '../repeated-warnings.js';
import type { EngineEvents } from '../events/engine-events.js';
import type { GatewayMetrics } from '../metrics.js';
import type { Heartbeat } from '../logs/heartbeat.js';
import { createFramer } from '../logs/log-framing.js';
import { parseLogRequest, type RequestInput, type StreamParams } from '../logs/log-request.js';
import type { StreamRecord } from '../merged/merged-record.js';
import { openMergedSource, parseMergedLogRequest } from '../merged/merged-request.js';
import { CLOSE, type LogStream, type StreamEnd } from '../logs/log-stream.js';
import type { LogStreamRegistry } from '../logs/log-stream-registry.js';
import { openCountedStream, startStreamingResponse } from '../logs/stream-opening.js';
import type { SharedLiveTails } from '../logs/shared-live-tails.js';
import { HttpSink } from '../logs/http-sink.js';
import { WebSocketSink } from '../logs/websocket-sink.js';

/** A parsed request, single or merged, and how to open its source on the active engine. */
interface LogsOpening {
  request: StreamParams;
  /** Text and raw framings prefix lines with the member's name (merged streams). */
  names: boolean;
  /** The container or selector, for the stream's logs. */
  description: string;
  open(engine: Engine, generation: number, signal: AbortSignal): Promise<AsyncIterable<StreamRecord[]>>;
}

/** What the preHandler resolved, for the handler that runs after it (or after the upgrade). */
interface PreparedLogs {
  request: StreamParams;
  names: boolean;
  /** null: over the stream limit; a WebSocket is then closed 1013 right after the upgrade. */
  stream: LogStream | null;
  /** From here on the handler owns the stream (and removes it from the registry when it ends). */
  handOver(): void;
}

export interface LogsRouteDependencies {
  engines: EngineManager;
  streams: LogStreamRegistry;
  liveTails: SharedLiveTails;
  heartbeat: Heartbeat;
  metrics: GatewayMetrics;
  /** Container events, for the members that join a merged stream. */
  events: Pick<EngineEvents, 'subscribe'>;
  highWaterMark: number;
  maxStreams: number;
}

function requestInput(request: FastifyRequest): RequestInput {
  return {
    query: request.query as Record<string, string | string[] | undefined>,
    headers: request.headers,
    webSocket: request.ws,
  };
}

/** `GET /passthrough/engine/logs/:container`: one container. */
function singleOpening(
  request: FastifyRequest<{ Params: { container: string } }>,
  liveTails: SharedLiveTails,
): LogsOpening {
  const logRequest = parseLogRequest({ container: request.params.container, ...requestInput(request) });
  return {
    request: logRequest,
    names: false,
    description: logRequest.container.ref,
    open: (engine, generation, signal) =>
      liveTails.open({ generation, source: engine.logs }, logRequest.container, logRequest.options, signal),
  };
}

/** `GET /passthrough/engine/logs?container=…|label=…|project=…|all=true`: one merged stream. */
function mergedOpening(request: FastifyRequest, events: LogsRouteDependencies['events']): LogsOpening {
  const merged = parseMergedLogRequest(requestInput(request));
  return {
    request: merged,
    names: merged.prefix,
    description: merged.description,
    open: (engine, _generation, signal) =>
      openMergedSource(engine, merged, signal, (eventsSignal) => events.subscribe(engine, eventsSignal)),
  };
}

/**
 * `GET /passthrough/engine/logs/:container` and the merged `GET /passthrough/engine/logs`. Everything that can fail — parameters, the engine
 * snapshot, `logs.open` (which resolves the container) — happens in the preHandler, so a
 * failure is an HTTP status before any upgrade. The handlers only pump.
 */
export class LogsRoute {
  /** Keyed by the raw request, which is what ws hands `handleProtocols`. */
  private readonly prepared = new WeakMap<IncomingMessage, PreparedLogs>();
  /** Engine errors and losses under many streams are one warning per cause, not one per stream. */
  private readonly warnings = new RepeatedWarnings();

  constructor(private readonly deps: LogsRouteDependencies) {}

  /** For @fastify/websocket's `handleProtocols`: the subprotocol the preHandler chose. */
  selectedSubprotocol(raw: IncomingMessage): string | false {
    return this.prepared.get(raw)?.request.subprotocol ?? false;
  }

  register(app: FastifyInstance): void {
    app.route<{ Params: { container: string } }>({
      method: 'GET',
      url: '/passthrough/engine/logs/:container',
      // A HEAD would open a follow stream whose body is never sent.
      exposeHeadRoute: false,
      preHandler: async (request, reply) =>
        this.prepare(request, reply.raw, () => singleOpening(request, this.deps.liveTails)),
      handler: async (request, reply) => {
        reply.hijack();
        await this.serveHttp(request, reply.raw);
      },
      wsHandler: (socket, request) => this.serveWebSocket(socket, request),
    });
    app.route({
      method: 'GET',
      url: '/passthrough/engine/logs',
      exposeHeadRoute: false,
      preHandler: async (request, reply) =>
        this.prepare(request, reply.raw, () => mergedOpening(request, this.deps.events)),
      handler: async (request, reply) => {
        reply.hijack();
        await this.serveHttp(request, reply.raw);
      },
      wsHandler: (socket, request) => this.serveWebSocket(socket, request),
    });
  }

  private async prepare(
    request: FastifyRequest,
    response: NodeJS.EventEmitter,
    parse: () => LogsOpening,
  ): Promise<void> {
    const opening = parse();
    const { request: logRequest, names } = opening;
    const opened = await openCountedStream({
      ...this.deps,
      request,
      response: request.ws ? request.raw.socket : response,
      framing: logRequest.framing,
      description: opening.description,
      what: 'the logs',
      open: (snapshot, signal) => opening.open(snapshot.engine, snapshot.generation, signal),
    });
    this.prepared.set(request.raw, {
      request: logRequest,
      names,
      stream: opened?.stream ?? null,
      handOver: opened?.handOver ?? (() => undefined),
    });
  }

  private async serveHttp(request: FastifyRequest, response: ServerResponse): Promise<void> {
    const { request: logRequest, names, stream } = this.take(request);
    if (stream === null) return void response.destroy();
    const { metrics, highWaterMark } = this.deps;
    startStreamingResponse(response, logRequest.framing);
    metrics.streamOpened('http', logRequest.framing);
    const sink = new HttpSink(response, logRequest.framing, highWaterMark, (bytes) =>
      metrics.bytesSentFor('http', logRequest.framing, bytes),
    );
    await this.run(request, stream, { ...logRequest, names }, sink);
  }

  private async serveWebSocket(socket: WebSocket, request: FastifyRequest): Promise<void> {
    const { request: logRequest, names, stream } = this.take(request);
    const { metrics, heartbeat, highWaterMark, maxStreams } = this.deps;
    if (stream === null) {
      request.log.debug({ maxStreams }, 'log stream refused: too many open');
      socket.close(CLOSE.tryAgainLater, `too many open log streams (limit ${maxStreams})`);
      return;
    }
    heartbeat.watch(socket);
    socket.once('close', () => stream.clientGone());
    metrics.streamOpened('websocket', logRequest.framing);
    const sink = new WebSocketSink(socket, highWaterMark, (bytes) =>
      metrics.bytesSentFor('websocket', logRequest.framing, bytes),
    );
    await this.run(request, stream, { ...logRequest, names }, sink);
  }

  private take(request: FastifyRequest): PreparedLogs {
    const prepared = this.prepared.get(request.raw);
    this.prepared.delete(request.raw);
    if (prepared === undefined) throw new Error('logs handler ran without its preHandler');
    prepared.handOver();
    return prepared;
  }

  private async run(
    request: FastifyRequest,
    stream: LogStream,
    logRequest: StreamParams & { names: boolean },
    sink: WebSocketSink | HttpSink,
  ): Promise<void> {
    let end: StreamEnd;
    try {
      end = await stream.run(
        createFramer(logRequest.framing, { timestamps: logRequest.timestamps, names: logRequest.names }),
        sink,
      );
    } finally {
      this.deps.streams.delete(stream);
    }
    const context = { engine: stream.init.engine, container: stream.init.container, transport: stream.init.transport };
    switch (end.kind) {
      case 'engine-error':
        this.warnings.warn(
          request.log,
          `error ${context.engine} ${end.reason}`,
          { ...context, reason: end.reason },
          'log stream ended by an engine error',
        );
        break;
      case 'engine-lost':
        this.warnings.warn(
          request.log,
          `lost ${context.engine} ${end.reason}`,
          { ...context, reason: end.reason },
          'engine lost under a log stream',
        );
        this.deps.engines.checkHealthNow();
        break;
      default:
        request.log.debug({ ...context, end: end.kind }, 'log stream ended');
    }
  }
}
