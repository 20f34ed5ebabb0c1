import type { IncomingMessage } from 'node:http';
import {
  DockerFormatEventStream,
  dockerFormatActions,
  formatUnixSeconds,
  nowNanos,
  type PluginLogger,
} from '@enginegate/plugin-api';
import type { LibpodClient, LibpodEventsQuery } from './libpod-client.js';
import { describeContainer } from './listing.js';

/**
 * Podman's container statuses that are events of the contract, and the state after each
 * (`died`: the process exited, with `containerExitCode`; `remove`: Docker's `destroy`).
 * init, kill, cleanup, attach, exec, mount, … change nothing a client shows.
 */
const ACTIONS = dockerFormatActions({ exit: 'died', removal: 'remove' });

/** Attributes libpod adds beside a container's labels in an event's `Actor.Attributes`. */
const NOT_LABELS = new Set(['name', 'image', 'containerExitCode', 'podId']);

/**
 * `since`: Podman sends its headers before it starts reading its events log, so events from
 * the moment of the request are asked for (with `since`, Podman reads its log from the start and
 * keeps the later ones); one may come twice.
 */
export function libpodEventsQuery(): LibpodEventsQuery {
  return {
    since: formatUnixSeconds(nowNanos()),
    filters: { type: ['container'], event: Object.keys(ACTIONS) },
  };
}

export interface PodmanEventStreamInit {
  client: LibpodClient;
  response: IncomingMessage;
  signal: AbortSignal;
  logger: PluginLogger;
  /** The stream ended and the service does not answer: an outage. */
  onServiceLost: (message: string) => void;
}

/** libpod's event stream as batches of container events, each container described as the listing does. */
export function podmanEventStream(init: PodmanEventStreamInit): DockerFormatEventStream {
  const { client } = init;
  return new DockerFormatEventStream({
    body: init.response,
    signal: init.signal,
    logger: init.logger,
    actions: ACTIONS,
    exitCodeAttribute: 'containerExitCode',
    notLabels: NOT_LABELS,
    describe: (id, signal) => describeContainer(client, id, signal),
    ping: () => client.ping(),
    messages: {
      ended: `the Podman event stream of ${client.description} ended`,
      lost: `the Podman service at ${client.description} stopped answering`,
    },
    onLost: init.onServiceLost,
  });
}
