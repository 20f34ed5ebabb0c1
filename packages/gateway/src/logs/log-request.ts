import {
  InvalidArgumentError,
  decodeCursor,
  parseTimeParam,
  cutInput,
  quoteInput,
  validateContainerRef,
  validateNamespace,
  type ContainerRef,
  type LogOptions,
} from '@enginegate/plugin-api';
import { isAuthSubprotocol, offeredSubprotocols } from '../access-control.js';
import { FRAMING_SUBPROTOCOLS, type FramingName } from './log-framing.js';

/** A logs request, validated before any engine is touched. */
export interface LogRequest {
  container: ContainerRef;
  options: LogOptions;
  timestamps: boolean;
  framing: FramingName;
  /** What the server answers in `Sec-WebSocket-Protocol` on upgrade; false for none. */
  subprotocol: string | false;
}

export type QueryValue = string | string[] | undefined;

export function single(query: Record<string, QueryValue>, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw new InvalidArgumentError(name, `${name} is given more than once`);
  return value;
}

/** `true`, `false`, `1` or `0`; nothing else. */
export function parseBooleanParam(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError(name, `${name}=${quoteInput(value)} is not a boolean: use true, false, 1 or 0`);
}

function parseTail(value: string | undefined): number | undefined {
  if (value === undefined || value === 'all') return undefined;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  throw new InvalidArgumentError('tail', `tail=${quoteInput(value)} is not a number of lines >= 0 or "all"`);
}

/** What every logs request has, single or merged: options, timestamps and framing. */
export type StreamParams = Omit<LogRequest, 'container'>;

export interface RequestInput {
  query: Record<string, QueryValue>;
  headers: { accept?: string | string[]; 'sec-websocket-protocol'?: string | string[] };
  webSocket: boolean;
}

/**
 * Reads the container and query parameters (Docker CLI meanings) and, on a WebSocket, the
 * framing subprotocol. Every mistake is an InvalidArgumentError naming what is wrong.
 */
export function parseLogRequest(input: RequestInput & { container: unknown }): LogRequest {
  const { query } = input;
  const ref = validateContainerRef(input.container);
  const container: ContainerRef = { ref };
  const namespace = single(query, 'namespace');
  if (namespace !== undefined) container.namespace = validateNamespace(namespace);
  const params = parseStreamParams(input);
  const after = single(query, 'after');
  if (after !== undefined) params.options.after = decodeCursor(after);
  // A finished read shown without times or cursors: the engine may leave both out (cheaper).
  if (!params.options.follow && !params.timestamps && params.framing !== 'json') params.options.linesOnly = true;
  return { container, ...params };
}

/**
 * The parameters a single and a merged logs request share (all but the container, `namespace`
 * and `after`), and the framing: from the subprotocol on a WebSocket, else from `Accept`.
 */
export function parseStreamParams(input: RequestInput): StreamParams {
  const { query } = input;
  const options: LogOptions = {
    follow: parseBooleanParam('follow', single(query, 'follow'), true),
    stdout: parseBooleanParam('stdout', single(query, 'stdout'), true),
    stderr: parseBooleanParam('stderr', single(query, 'stderr'), true),
  };
  if (!options.stdout && !options.stderr) {
    throw new InvalidArgumentError('stdout', 'stdout=false and stderr=false select nothing: keep at least one');
  }
  const tail = parseTail(single(query, 'tail'));
  if (tail !== undefined) options.tail = tail;
  const since = single(query, 'since');
  if (since !== undefined) options.since = parseTimeParam('since', since);
  const until = single(query, 'until');
  if (until !== undefined) options.until = parseTimeParam('until', until);
  const timestamps = parseBooleanParam('timestamps', single(query, 'timestamps'), false);
  return { options, timestamps, ...parseFraming(input) };
}

function parseFraming(input: RequestInput): Pick<LogRequest, 'framing' | 'subprotocol'> {
  if (!input.webSocket) {
    const accept = [input.headers.accept ?? []].flat().join(',');
    const framing: FramingName = /application\/x-ndjson/i.test(accept) ? 'json' : 'raw';
    return { framing, subprotocol: false };
  }
  const offers = offeredSubprotocols(input.headers['sec-websocket-protocol']);
  const authOffer = offers.find(isAuthSubprotocol);
  const framingOffers = offers.filter((p) => !isAuthSubprotocol(p));
  if (framingOffers.length === 0) {
    // Raw framing. A browser that offered only the auth subprotocol needs one echoed back.
    return { framing: 'raw', subprotocol: authOffer ?? false };
  }
  const chosen = framingOffers.find((p) => FRAMING_SUBPROTOCOLS.has(p));
  if (chosen === undefined) {
    throw new InvalidArgumentError(
      'Sec-WebSocket-Protocol',
      `none of the offered subprotocols (${cutInput(framingOffers.map((p) => JSON.stringify(p)).join(', '))}) is known: ` +
        `offer ${[...FRAMING_SUBPROTOCOLS.keys()].join(', ')}, or none for raw bytes`,
    );
  }
  return { framing: FRAMING_SUBPROTOCOLS.get(chosen)!, subprotocol: chosen };
}
