import type { ServerResponse } from 'node:http';
import { EngineGateError, EngineUnavailableError, cutInput } from '@enginegate/plugin-api';
import type { FastifyRequest } from 'fastify';
import { clientAddress } from '../connection-limits.js';
import type { EngineManager, EngineSnapshot } from '../engine-manager.js';
import { HttpSink } from './http-sink.js';
import type { FramingName } from './log-framing.js';
import { LogStream } from './log-stream.js';
import type { LogStreamRegistry } from './log-stream-registry.js';

export interface StreamOpeningOptions<R> {
  request: FastifyRequest;
  /** The WebSocket's socket or the HTTP response: its `close` is the client leaving. */
  response: NodeJS.EventEmitter;
  engines: EngineManager;
  streams: LogStreamRegistry;
  maxStreams: number;
  framing: FramingName;
  /** What the stream serves, for the registry and the logs (a container, `(events)`); cut to 64 characters here. */
  description: string;
  /** What is being opened, for the retry message: "the logs", "its events". */
  what: string;
  open(snapshot: EngineSnapshot, signal: AbortSignal): Promise<AsyncIterable<R[]>>;
}

/** A stream counted in the registry, its source open, waiting for the route's handler. */
export interface OpenedStream<R> {
  stream: LogStream<R>;
  /** Called by the handler that runs the stream: from then on, it removes it from the registry. */
  handOver: () => void;
}

/**
 * The preHandler half of every streaming route: the per-client stream limit (an HTTP request
 * over it is a 429; a WebSocket gets null and is closed 1013 after its upgrade), then the
 * stream registered and its source opened on the engine running now. The client leaving at any
 * point — during open(), before or after the upgrade — releases the source; until a handler
 * runs the stream, it is also what removes it from the registry (an upgrade that never happens
 * ends here too).
 */
export async function openCountedStream<R>(o: StreamOpeningOptions<R>): Promise<OpenedStream<R> | null> {
  const client = clientAddress(o.request.raw.socket);
  const refusal = o.streams.refusal(client, o.maxStreams);
  if (refusal !== undefined) {
    if (!o.request.ws) throw new EngineGateError('TOO_MANY_STREAMS', refusal, { retryAfterSeconds: 5 });
    return null;
  }
  const snapshot = o.engines.snapshot();
  const stream = new LogStream<R>({
    generation: snapshot.generation,
    transport: o.request.ws ? 'websocket' : 'http',
    framing: o.framing,
    // The client's own reference or selector: a log line repeats at most 64 characters of it.
    container: cutInput(o.description),
    engine: snapshot.name,
  });
  o.streams.add(stream, client);
  let running = false;
  const release = () => {
    stream.clientGone();
    if (!running) o.streams.delete(stream);
  };
  o.response.once('close', release);
  const changed = () =>
    new EngineUnavailableError(`engine ${snapshot.name} changed while ${o.what} were being opened; retry`, {
      retryAfterSeconds: 1,
    });
  try {
    stream.attachSource(await openOrAborted(o.open(snapshot, stream.abort.signal), stream.abort.signal, changed));
  } catch (err) {
    // Either the engine's own refusal (404, 501, …), or changed(): openOrAborted rejects with it
    // the moment the signal aborts, before anything the source throws because of the abort.
    release();
    throw err;
  }
  if (stream.abort.signal.aborted) {
    // The engine was switched or lost (or the client left) while the source was being opened.
    o.streams.delete(stream);
    throw changed();
  }
  return { stream, handOver: () => (running = true) };
}

/**
 * The source being opened, or `changed()` as soon as the signal aborts: an open() hung on a
 * daemon that stopped answering (or waiting on a shared tail's open, which this signal does not
 * reach) cannot hold the request past the engine's loss. A source that opens late sees its
 * signal aborted and releases itself.
 */
function openOrAborted<T>(opening: Promise<T>, signal: AbortSignal, changed: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(changed());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    opening.then(
      (source) => {
        signal.removeEventListener('abort', onAbort);
        resolve(source);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as thrown
        reject(err);
      },
    );
  });
}

/** The head of a streaming HTTP answer, sent at once: `curl -N` shows the stream is open before its first line. */
export function startStreamingResponse(response: ServerResponse, framing: FramingName): void {
  response.writeHead(200, {
    'content-type': HttpSink.contentType(framing),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  response.flushHeaders();
}
