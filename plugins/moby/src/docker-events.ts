import type { IncomingMessage } from 'node:http';
import {
  EngineUnavailableError,
  formatUnixSeconds,
  isConnectionFailure,
  nowNanos,
  type ContainerAction,
  type ContainerEvent,
  type ContainerInfo,
  type PluginLogger,
  SWARM_LABELS,
} from '@enginegate/plugin-api';
import type { DockerClient, DockerEventsQuery } from './docker-client.js';
import { httpStatusOf } from './docker-errors.js';

/** Docker's container actions that are events of the contract, and the state after each. */
const ACTIONS: Readonly<Record<string, { action: ContainerAction; state?: string }>> = {
  create: { action: 'create', state: 'created' },
  start: { action: 'start', state: 'running' },
  die: { action: 'die', state: 'exited' },
  stop: { action: 'stop', state: 'exited' },
  rename: { action: 'rename' },
  pause: { action: 'update', state: 'paused' },
  unpause: { action: 'update', state: 'running' },
  destroy: { action: 'destroy', state: 'removed' },
};

/** Attributes Docker adds beside a container's labels in an event's `Actor.Attributes`. */
const NOT_LABELS = new Set(['name', 'image', 'exitCode', 'signal', 'oldName', 'execDuration']);

/**
 * `since`: the daemon sends its headers before it subscribes, so events from the moment of the
 * request are asked for again (Docker keeps its recent events); one may come twice.
 */
export function dockerEventsQuery(): DockerEventsQuery {
  return {
    since: formatUnixSeconds(nowNanos()),
    filters: JSON.stringify({ type: ['container'], event: Object.keys(ACTIONS) }),
  };
}

interface DockerEventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** What inspect told of a container, kept to describe it in later events (and after destroy). */
type Known = Omit<ContainerInfo, 'state'> & { state: string };

export interface DockerEventStreamInit {
  client: DockerClient;
  response: IncomingMessage;
  signal: AbortSignal;
  logger: PluginLogger;
  /** The stream ended and the daemon does not answer: an outage. */
  onDaemonLost: (message: string) => void;
  /** The hostname of this daemon's swarm node, for a task's container (`ContainerInfo.node`). */
  swarmNode: () => Promise<string>;
}

/**
 * Docker's `/events` stream as batches of container events. Each event's container is inspected,
 * so that it carries `tty`, `createdAt` and labels like a listing (the state is the event's;
 * after destroy, or when it is gone already, what was last known of it). The stream ends only with the daemon: that is an
 * EngineUnavailableError (1012 for the gateway's client).
 */
export class DockerEventStream implements AsyncIterable<ContainerEvent[]> {
  private readonly known = new Map<string, Known>();

  constructor(private readonly init: DockerEventStreamInit) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<ContainerEvent[]> {
    const { response, signal } = this.init;
    let rest = '';
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        const lines = (rest + chunk.toString('utf8')).split('\n');
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
      response.destroy();
    }
    if (!signal.aborted) throw await this.ended(undefined);
  }

  private async toEvent(line: string): Promise<ContainerEvent | null> {
    let message: DockerEventMessage;
    try {
      message = JSON.parse(line) as DockerEventMessage;
    } catch {
      this.init.logger.warn({ line: line.slice(0, 64) }, 'an unreadable Docker event was skipped');
      return null;
    }
    const mapped = ACTIONS[message.Action ?? ''];
    const id = message.Actor?.ID;
    if (message.Type !== 'container' || mapped === undefined || id === undefined) return null;
    const attributes = message.Actor?.Attributes ?? {};
    const known = mapped.action === 'destroy' ? this.known.get(id) : await this.inspect(id);
    const container: ContainerInfo = { ...(known ?? fromAttributes(id, attributes)) };
    if (attributes.name !== undefined) container.names = [attributes.name];
    if (mapped.state !== undefined) container.state = mapped.state;
    if (mapped.action === 'destroy') this.known.delete(id);
    else this.known.set(id, container);
    const event: ContainerEvent = { action: mapped.action, container, time: eventTime(line) };
    if (mapped.action === 'die' && attributes.exitCode !== undefined) event.exitCode = Number(attributes.exitCode);
    return event;
  }

  /** The container as inspect shows it; what was known of it when it is gone already. */
  private async inspect(id: string): Promise<Known | undefined> {
    try {
      const inspect = await this.init.client.inspect(id, this.init.signal);
      return {
        id: inspect.Id,
        names: [inspect.Name.replace(/^\//, '')],
        image: inspect.Config.Image,
        state: inspect.State.Status,
        tty: inspect.Config.Tty === true,
        createdAt: inspect.Created,
        labels: inspect.Config.Labels ?? {},
        ...(inspect.Config.Labels?.[SWARM_LABELS.taskId] !== undefined && { node: await this.init.swarmNode() }),
      };
    } catch (err) {
      if (httpStatusOf(err) === 404) return this.known.get(id);
      if (isConnectionFailure(err) && !this.init.signal.aborted) throw err;
      return this.known.get(id);
    }
  }

  private async ended(cause: unknown): Promise<EngineUnavailableError> {
    const { client, logger } = this.init;
    let answers = false;
    try {
      await client.ping();
      answers = true;
    } catch {
      // gone
    }
    const message = answers
      ? `the Docker event stream of ${client.description} ended`
      : `the Docker daemon (${client.description}) stopped answering`;
    logger.warn({ err: cause }, message);
    if (!answers) this.init.onDaemonLost(message);
    return new EngineUnavailableError(message, { cause });
  }
}

function fromAttributes(id: string, attributes: Record<string, string>): Known {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) if (!NOT_LABELS.has(key)) labels[key] = value;
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

/** `timeNano` read from the text: as a JSON number it is beyond a double's exact range. */
function eventTime(line: string): bigint {
  const nanos = /"timeNano":(\d+)/.exec(line)?.[1];
  if (nanos !== undefined) return BigInt(nanos);
  const seconds = /"time":(\d+)/.exec(line)?.[1];
  return seconds !== undefined ? BigInt(seconds) * 1_000_000_000n : nowNanos();
}
