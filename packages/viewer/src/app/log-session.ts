import { stripAnsi } from './ansi.js';
import { GatewayRequestError, type GatewayApi } from './gateway-api.js';
import { LineStore, type MarkerKind, type NewEntry } from './line-store.js';
import { isMerged, logsPath, type LogTarget } from './log-target.js';
import { ReconnectingSocket, type ConnectionLoss, type SocketStatus } from './reconnecting-socket.js';

/** The JSON framing's records (docs/api.md), merged streams' fields included. */
type LogRecord =
  | {
      type: 'line';
      stream: 'stdout' | 'stderr';
      time: string | null;
      line?: string;
      base64?: string;
      cursor: string;
      container?: string;
      name?: string;
    }
  | { type: 'exit'; exitCode: number; container?: string; name?: string }
  | { type: 'join'; container: string; name: string; index: number }
  | { type: 'leave'; container: string; name: string; index: number; exitCode?: number }
  | { type: 'gap'; reason?: string }
  | { type: 'error'; code?: string; message?: string };

/** A container of a merged stream, numbered in order of appearance. */
export interface Member {
  name: string;
  /** 0…NAME_COLOURS-1: the stylesheet's colour for this name. */
  colour: number;
}

/** The stylesheet has this many name colours (`.name-c0` …). */
export const NAME_COLOURS = 10;

/**
 * A name's own colour, the same in every stream and after a reconnect. FNV-1a: a multiplier
 * such as 31 is 1 modulo 10, so names that differ only in their middle (demo-web-1, demo-db-1)
 * would all land on one colour.
 */
export function nameColour(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % NAME_COLOURS;
}

/** The name's colour, or the next one no member of this stream has yet: a stream's names stay apart. */
export function memberColour(name: string, taken: ReadonlySet<number>): number {
  const own = nameColour(name);
  if (taken.size >= NAME_COLOURS) return own;
  let colour = own;
  while (taken.has(colour)) colour = (colour + 1) % NAME_COLOURS;
  return colour;
}

function decodeBase64(text: string): string {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes); // invalid UTF-8 becomes U+FFFD, as the text framing does
}

export interface LogSessionOptions {
  api: GatewayApi;
  target: LogTarget;
  /** Lines kept; also the history asked for (per container). */
  cap: number;
}

/**
 * One followed target: the lines it keeps, the members of a merged stream, and the connection's
 * status. The history comes first as one NDJSON response (`follow=false&tail=<cap>`: a fetch reads
 * it in big chunks), then a WebSocket follows from right after its last line (`after=<cursor>`)
 * and resumes the same way after an engine switch (1012) or a lost connection. Listeners hear of
 * every change; the pane coalesces them into one render per frame.
 */
export class LogSession {
  readonly store: LineStore;
  readonly target: LogTarget;
  readonly members: Member[] = [];
  status: SocketStatus = { phase: 'connecting', detail: 'connecting…' };
  failure: GatewayRequestError | null = null;
  /** Reconnects after an engine switch (1012): the page asks which engine is active now. */
  engineSwitches = 0;
  private readonly memberIndex = new Map<string, number>();
  /** Members whose exit was shown since their last line: a repeated `exit` or a `leave` says nothing new. */
  private readonly exitShown = new Set<number>();
  private cursor: string | undefined;
  private linesSeen = false;
  /** While the history loads, `leave` records only say that the history ended. */
  private inHistory = false;
  private readonly api: GatewayApi;
  private readonly socket: ReconnectingSocket;
  private readonly listeners = new Set<() => void>();
  private readonly abort = new AbortController();

  constructor(options: LogSessionOptions) {
    this.target = options.target;
    this.store = new LineStore(options.cap);
    const { api, target } = options;
    this.api = api;
    this.socket = new ReconnectingSocket({
      api,
      // After the history: right after its last line; with no line yet, the last lines there are.
      path: () => logsPath(target, { tail: this.store.cap, after: this.cursor }),
      probePath: () => logsPath(target, { tail: 0, follow: false }),
      onMessage: (record) => this.onRecord(record as LogRecord),
      onOpen: (loss) => this.onOpen(loss),
      onStatus: (status) => {
        this.status = status;
        this.changed();
      },
      onEnd: () =>
        this.marker(
          'end',
          isMerged(target)
            ? 'end of the stream: every container has exited'
            : 'end of the log: the container is not running',
        ),
      onFailure: (error) => {
        this.failure = error;
        this.marker('error', `${error.message} (${error.status})`);
      },
    });
  }

  get merged(): boolean {
    return isMerged(this.target);
  }

  start(): void {
    void this.loadHistory().then((follow) => {
      if (follow && !this.abort.signal.aborted) this.socket.start();
    });
  }

  stop(): void {
    this.abort.abort();
    this.socket.stop();
    this.listeners.clear();
  }

  /** False when the gateway refused the request in a way that following would not change. */
  private async loadHistory(): Promise<boolean> {
    this.inHistory = true;
    this.status = { phase: 'connecting', detail: 'loading the history…' };
    this.changed();
    try {
      const path = logsPath(this.target, { tail: this.store.cap, follow: false });
      await this.api.readNdjson(
        path,
        (records) => records.forEach((r) => this.onRecord(r as LogRecord)),
        this.abort.signal,
      );
    } catch (err) {
      if (err instanceof GatewayRequestError && err.status < 500 && err.status !== 429) {
        this.failure = err;
        this.status = { phase: 'failed', detail: err.message };
        this.marker('error', `${err.message} (${err.status})`);
        return false;
      }
      // A network failure or an engine that is not there yet: the socket retries and says so.
    } finally {
      this.inHistory = false;
    }
    return true;
  }

  reconnectNow(): void {
    this.socket.reconnectNow();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private onOpen(loss: ConnectionLoss | null): void {
    if (loss === null) return;
    if (loss === 'engine') this.engineSwitches++;
    const why = loss === 'engine' ? 'the engine was switched' : 'the connection was lost';
    const how = this.cursor === undefined ? 'started again' : 'resumed right after the last line';
    this.marker('reconnect', `reconnected: ${why}; ${how}`);
  }

  private member(name: string | undefined, container: string | undefined): number {
    if (!this.merged) return -1;
    const key = name ?? container?.slice(0, 12) ?? '?';
    let index = this.memberIndex.get(key);
    if (index === undefined) {
      index = this.members.length;
      const taken = new Set(this.members.map((member) => member.colour));
      this.members.push({ name: key, colour: memberColour(key, taken) });
      this.memberIndex.set(key, index);
    }
    return index;
  }

  private onRecord(record: LogRecord): void {
    switch (record.type) {
      case 'line': {
        this.cursor = record.cursor;
        this.linesSeen = true;
        this.exitShown.delete(this.member(record.name, record.container));
        let text = record.line ?? (record.base64 !== undefined ? decodeBase64(record.base64) : '');
        if (text.endsWith('\r')) text = text.slice(0, -1); // a TTY's CRLF
        const plain = stripAnsi(text);
        this.append({
          kind: 'line',
          stream: record.stream === 'stderr' ? 'stderr' : 'stdout',
          marker: null,
          text,
          plain: plain === text ? text : plain,
          time: record.time,
          member: this.member(record.name, record.container),
        });
        return;
      }
      case 'exit': {
        const member = this.member(record.name, record.container);
        // The history and the socket after it may both end with the same exit.
        if (this.exitShown.has(member)) return;
        this.exitShown.add(member);
        const who = this.merged ? (this.members[member]?.name ?? 'a container') : this.targetName();
        this.marker('exit', `${who} exited with code ${record.exitCode}`, member);
        return;
      }
      case 'join': {
        const known = this.memberIndex.has(record.name);
        const member = this.member(record.name, record.container);
        this.exitShown.delete(member);
        // The joins that open a stream (and those a reconnect repeats) are not news; a later one is.
        if (!known && this.linesSeen) this.marker('join', `${record.name} joined the stream`, member);
        return;
      }
      case 'leave': {
        const member = this.member(record.name, record.container);
        if (this.inHistory || this.exitShown.has(member)) return;
        const code = record.exitCode === undefined ? '' : ` (exit code ${record.exitCode})`;
        this.marker('leave', `${record.name} left the stream${code}`, member);
        return;
      }
      case 'gap':
        this.marker('gap', `gap: ${record.reason ?? 'lines were left out'}`);
        return;
      case 'error':
        this.marker('error', `engine error ${record.code ?? ''}: ${record.message ?? ''}`.trim());
        return;
    }
  }

  private targetName(): string {
    return this.target.kind === 'container' ? this.target.name : 'the container';
  }

  private marker(marker: MarkerKind, text: string, member = -1): void {
    this.append({ kind: 'marker', stream: null, marker, text, plain: text, time: null, member });
  }

  private append(entry: NewEntry): void {
    this.store.append([entry]);
    this.changed();
  }
}
