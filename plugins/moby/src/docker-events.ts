import type { IncomingMessage } from 'node:http';
import {
  DockerFormatEventStream,
  dockerFormatActions,
  formatUnixSeconds,
  nowNanos,
  type ContainerInfo,
  type PluginLogger,
  SWARM_LABELS,
} from '@enginegate/plugin-api';
import type { DockerClient, DockerEventsQuery } from './docker-client.js';

/** Docker's container actions that are events of the contract, and the state after each. */
const ACTIONS = dockerFormatActions({ exit: 'die', removal: 'destroy' });

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

/** Docker's `/events` stream as batches of container events, each container inspected (plugin-api's DockerFormatEventStream). */
export function dockerEventStream(init: DockerEventStreamInit): DockerFormatEventStream {
  const { client } = init;
  return new DockerFormatEventStream({
    body: init.response,
    signal: init.signal,
    logger: init.logger,
    actions: ACTIONS,
    exitCodeAttribute: 'exitCode',
    notLabels: NOT_LABELS,
    describe: async (id, signal): Promise<ContainerInfo> => {
      const inspect = await client.inspect(id, signal);
      return {
        id: inspect.Id,
        names: [inspect.Name.replace(/^\//, '')],
        image: inspect.Config.Image,
        state: inspect.State.Status,
        tty: inspect.Config.Tty === true,
        createdAt: inspect.Created,
        labels: inspect.Config.Labels ?? {},
        ...(inspect.Config.Labels?.[SWARM_LABELS.taskId] !== undefined && { node: await init.swarmNode() }),
      };
    },
    ping: () => client.ping(),
    messages: {
      ended: `the Docker event stream of ${client.description} ended`,
      lost: `the Docker daemon (${client.description}) stopped answering`,
    },
    onLost: init.onDaemonLost,
  });
}
