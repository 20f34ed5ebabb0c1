import { StringDecoder } from 'node:string_decoder';
import { isConnectionFailure } from './connection-errors.js';
import { EngineUnavailableError } from './errors.js';
import { nowNanos, type UnixNanos } from './time.js';
import type { ContainerAction, ContainerEvent, ContainerInfo, PluginLogger } from './types.js';

/** An engine's action as the contract's, and the container's state after it. */
export interface MappedAction {
  action: ContainerAction;
  state?: string;
}

/**
 * The container actions that are events of the contract, and the state after each, as Docker's
 * `/events` and libpod's name them alike; they name the exit (Docker `die`, libpod `died`) and
 * the removal (`destroy`, `remove`) apart.
 */
export function dockerFormatActions(names: { exit: string; removal: string }): Readonly<Record<string, MappedAction>> {
  return {
    create: { action: 'create', state: 'created' },
    start: { action: 'start', state: 'running' },
    [names.exit]: { action: 'die', state: 'exited' },
    stop: { action: 'stop', state: 'exited' },
    rename: { action: 'rename' },
    pause: { action: 'update', state: 'paused' },
    unpause: { action: 'update', state: 'running' },
    [names.removal]: { action: 'destroy', state: 'removed' },
  };
}

/** The streamed body of an events request: pulled chunk by chunk, destroyed when done. */
export interface EventsBody extends AsyncIterable<Buffer> {
  destroy(): void;
}

export interface DockerFormatEventStreamInit {
  body: EventsBody;
  signal: AbortSignal;
  logger: PluginLogger;
  /** The engine's container actions that are events of the contract. */
  actions: Readonly<Record<string, MappedAction>>;
  /** The `Actor.Attributes` key of a `die`'s exit code (Docker `exitCode`, libpod `containerExitCode`). */
  exitCodeAttribute: string;
  /** `Actor.Attributes` keys that are not the container's labels. */
  notLabels: ReadonlySet<string>;
  /** The container as the engine shows it now; throws (or resolves undefined) when it is gone. */
  describe(id: string, signal: AbortSignal): Promise<ContainerInfo | undefined>;
  /** Resolves when the engine still answers (a fresh request), rejects when it does not. */
  ping(): Promise<void>;
  /** What the errors say: the body ended while the engine answers; the engine stopped answering. */
  messages: { ended: string; lost: string };
  /** The body ended and the engine does not answer: an outage. */
  onLost(message: string): void;
}

interface EventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/**
 * An events body in Docker's format (NDJSON of `{Type, Action, Actor: {ID, Attributes}, timeNano}`:
 * Docker's `/events`, and libpod's `/libpod/events`, which is Docker's message with more
 * attributes) as batches of container events. Each event's container is described afresh, so
 * that it carries `tty`, `createdAt` and labels like a listing (the state is the event's; after
 * destroy, or when it is gone already, what was last known of it). The body ends only with the
 * engine: that is an EngineUnavailableError (1012 for the gateway's client).
 */
export class DockerFormatEventStream implements AsyncIterable<ContainerEvent[]> {
  private readonly known = new Map<string, ContainerInfo>();

  constructor(private readonly init: DockerFormatEventStreamInit) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<ContainerEvent[]> {
    const { body, signal } = this.init;
    const decoder = new StringDecoder('utf8');
    let rest = '';
    try {
      for await (const chunk of body) {
        const lines = (rest + decoder.write(chunk)).split('\n');
        rest = lines.pop() ?? '';
        const batch: ContainerEvent[] = [];
        for (const line of lines) {
          const event = line.trim() === '' ? null : await this.toEvent(line);
          if (event !== null) batch.push(event);
        }
        if (batch.length > 0) yield batch;
      }
    } catch (err) {
      if (signal.aborted) return;
      throw await this.ended(err);
    } finally {
      body.destroy();
    }
    if (!signal.aborted) throw await this.ended(undefined);
  }

  private async toEvent(line: string): Promise<ContainerEvent | null> {
    let message: EventMessage;
    try {
      message = JSON.parse(line) as EventMessage;
    } catch {
      this.init.logger.warn({ line: line.slice(0, 64) }, 'an unreadable container event was skipped');
      return null;
    }
    const action = message.Action ?? '';
    const mapped = Object.hasOwn(this.init.actions, action) ? this.init.actions[action] : undefined;
    const id = message.Actor?.ID;
    if (message.Type !== 'container' || mapped === undefined || id === undefined) return null;
    const attributes = message.Actor?.Attributes ?? {};
    const known = mapped.action === 'destroy' ? this.known.get(id) : await this.describe(id);
    const container: ContainerInfo = { ...(known ?? this.fromAttributes(id, attributes)) };
    if (attributes.name !== undefined) container.names = [attributes.name];
    if (mapped.state !== undefined) container.state = mapped.state;
    if (mapped.action === 'destroy') this.known.delete(id);
    else this.known.set(id, container);
    const event: ContainerEvent = { action: mapped.action, container, time: eventTime(line) };
    const exitCode = attributes[this.init.exitCodeAttribute];
    if (mapped.action === 'die' && exitCode !== undefined && exitCode !== '') event.exitCode = Number(exitCode);
    return event;
  }

  /** The container now; what was known of it when it is gone already. */
  private async describe(id: string): Promise<ContainerInfo | undefined> {
    try {
      return (await this.init.describe(id, this.init.signal)) ?? this.known.get(id);
    } catch (err) {
      if (isConnectionFailure(err) && !this.init.signal.aborted) throw err;
      return this.known.get(id);
    }
  }

  private fromAttributes(id: string, attributes: Record<string, string>): ContainerInfo {
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(attributes)) if (!this.init.notLabels.has(key)) labels[key] = value;
    return {
      id,
      names: attributes.name === undefined ? [] : [attributes.name],
      image: attributes.image ?? '',
      state: 'unknown',
      tty: false,
      createdAt: '',
      labels,
    };
  }

  private async ended(cause: unknown): Promise<EngineUnavailableError> {
    const { logger, messages } = this.init;
    let answers = false;
    try {
      await this.init.ping();
      answers = true;
    } catch {
      // gone
    }
    const message = answers ? messages.ended : messages.lost;
    logger.warn({ err: cause }, message);
    if (!answers) this.init.onLost(message);
    return new EngineUnavailableError(message, { cause });
  }
}

/** `timeNano` read from the text: as a JSON number it is beyond a double's exact range. */
function eventTime(line: string): UnixNanos {
  const nanos = /"timeNano":(\d+)/.exec(line)?.[1];
  if (nanos !== undefined) return BigInt(nanos);
  const seconds = /"time":(\d+)/.exec(line)?.[1];
  return seconds !== undefined ? BigInt(seconds) * 1_000_000_000n : nowNanos();
}
