import type { Test } from 'tap';
import type { LogSocket } from '@enginegate/test-client';
import { SETTLE_TIMEOUT_MS, numberedLines, type SuiteHarness } from '../suite-harness.js';
import type { Scenario } from './scenario.js';
import { MEMBERSHIP_BOUND_MS, containerId, openEvents } from './stream-helpers.js';

/** One record of the events stream, as far as the scenarios look at it. */
interface EventsMessage {
  type: string;
  action?: string;
  container?: { id: string; names: string[]; state: string; labels: unknown };
  time?: string;
  exitCode?: number;
  /** performance.now() when it arrived. */
  at: number;
}

function eventsMessages(socket: LogSocket): EventsMessage[] {
  return socket.messages.map(
    (message) => ({ ...(JSON.parse(message.data.toString('utf8')) as object), at: message.at }) as EventsMessage,
  );
}

async function syncedEvents(t: Test, h: SuiteHarness): Promise<LogSocket> {
  const socket = await openEvents(h);
  t.teardown(() => socket.close());
  await socket.waitFor(
    (messages) => messages.some((m) => m.data.toString().includes('"synced"')),
    'synced',
    SETTLE_TIMEOUT_MS,
  );
  return socket;
}

const eventsPresent: Scenario = async (t, h) => {
  const container = await h.createContainer(t, numberedLines('present', 1));
  const id = await containerId(h, container.ref);
  const socket = await syncedEvents(t, h);
  const messages = eventsMessages(socket);
  const syncedAt = messages.findIndex((m) => m.type === 'synced');
  const present = messages.slice(0, syncedAt);
  t.ok(
    present.every((m) => m.type === 'container' && m.action === 'present'),
    'every record before synced is a present record',
  );
  const mine = present.find((m) => m.container?.id === id);
  t.ok(mine, `the running test container is present before synced (${present.length} present records)`);
  t.equal(mine?.container?.state, 'running', 'its present record says it is running');
  t.ok(
    mine?.container?.labels !== null && typeof mine?.container?.labels === 'object',
    'its present record carries labels',
  );
  t.equal(messages.filter((m) => m.type === 'synced').length, 1, 'exactly one synced record');
  t.notOk(
    messages.slice(syncedAt + 1).some((m) => m.action === 'present'),
    'no present record after synced',
  );
};

const LIFECYCLE = ['create', 'start', 'die', 'destroy'];

/** Waits for `action` of container `id`; returns its record. */
async function waitForEvent(socket: LogSocket, id: string, action: string): Promise<EventsMessage> {
  const find = () => eventsMessages(socket).find((m) => m.action === action && m.container?.id === id);
  await socket.waitFor(() => find() !== undefined, `${action} of ${id.slice(0, 12)}`, SETTLE_TIMEOUT_MS);
  return find()!;
}

const eventsLifecycle: Scenario = async (t, h) => {
  const socket = await syncedEvents(t, h);
  const container = await h.createContainer(t, numberedLines('events', 5), { intervalMs: 300, exitCode: 3 });
  const startedAt = performance.now();
  const ended = h.waitForEnd(container.ref, 5).then(() => performance.now());
  const id = await containerId(h, container.ref);
  const create = await waitForEvent(socket, id, 'create');
  const start = await waitForEvent(socket, id, 'start');
  const die = await waitForEvent(socket, id, 'die');
  const exitedAt = await ended;
  await container.remove();
  const removedAt = performance.now();
  const destroy = await waitForEvent(socket, id, 'destroy');

  const actions = eventsMessages(socket)
    .filter((m) => m.container?.id === id && LIFECYCLE.includes(m.action ?? ''))
    .map((m) => m.action);
  t.same(actions, LIFECYCLE, 'create, start, die and destroy, once each, in that order');
  const late = (what: string, at: number, since: number) => {
    const ms = Math.round(at - since);
    t.ok(ms <= MEMBERSHIP_BOUND_MS, `${what} arrived ${ms} ms after it happened (bound ${MEMBERSHIP_BOUND_MS} ms)`);
  };
  late('create', create.at, startedAt);
  late('start', start.at, startedAt);
  late('die', die.at, exitedAt);
  late('destroy', destroy.at, removedAt);
  t.ok(
    [create, start, die, destroy].every((m) => typeof m.time === 'string'),
    'every event carries its time',
  );
  t.equal(destroy.container?.state, 'removed', "destroy's container is in state removed");
  // The gateway's poller of containers() cannot know exit codes; an engine's own events can.
  if (h.engine.events) t.equal(die.exitCode, 3, 'die carries the exit code (the engine has events of its own)');
  else t.comment(`the ${h.target.name} engine has no events(): polled by the gateway, die carries no exit code`);
};

export const eventsScenarios: Record<string, Scenario> = {
  'events-present': eventsPresent,
  'events-lifecycle': eventsLifecycle,
};
