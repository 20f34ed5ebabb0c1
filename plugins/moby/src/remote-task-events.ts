// Container events of swarm tasks on other nodes. A manager's `/events` tells only of its own
// containers (and of services, never of tasks), so the tasks are polled: a task whose container
// turns running is a `start`, one that ended a `die` with its exit code.
import { setTimeout as sleep } from 'node:timers/promises';
import { nowNanos, type ContainerEvent } from '@enginegate/plugin-api';
import type { DockerClient } from './docker-client.js';
import { remoteTasks, type RemoteTask } from './remote-tasks.js';
import { SwarmDirectory } from './swarm-directory.js';

/** How often the tasks are listed: a scale-up's remote tasks join within about this. */
const REMOTE_TASK_POLL_MS = 1_000;

export class RemoteTaskEvents implements AsyncIterable<ContainerEvent[]> {
  private constructor(
    private readonly client: DockerClient,
    private known: Map<string, RemoteTask>,
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Lists the remote tasks once (what is there now is no event), so that a task starting after
   * this resolves is told; undefined when the daemon is no swarm manager (it sees no tasks).
   */
  static async open(client: DockerClient, signal: AbortSignal): Promise<RemoteTaskEvents | undefined> {
    const local = await new SwarmDirectory(client).local(signal).catch(() => undefined);
    if (local?.role !== 'manager') return undefined;
    const tasks = await remoteTasks(client, signal).catch(() => []);
    return new RemoteTaskEvents(client, byContainer(tasks), signal);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ContainerEvent[]> {
    const { signal } = this;
    while (!signal.aborted) {
      await sleep(REMOTE_TASK_POLL_MS, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      // A failed listing is tried again; the daemon's own event stream tells of an outage.
      const tasks = await remoteTasks(this.client, signal).catch(() => undefined);
      if (tasks === undefined) continue;
      const events = this.changes(tasks);
      if (events.length > 0) yield events;
    }
  }

  private changes(tasks: RemoteTask[]): ContainerEvent[] {
    const now = byContainer(tasks);
    const time = nowNanos();
    const events: ContainerEvent[] = [];
    for (const [id, task] of now) {
      const before = this.known.get(id)?.info.state;
      if (task.info.state === before) continue;
      if (task.info.state === 'running') events.push({ action: 'start', container: task.info, time });
      else if (task.info.state === 'exited') events.push({ action: 'die', container: task.info, time });
    }
    this.known = now;
    return events;
  }
}

function byContainer(tasks: RemoteTask[]): Map<string, RemoteTask> {
  return new Map(tasks.map((task) => [task.info.id, task]));
}

/**
 * The batches of several event streams as they come. An error of any ends the whole; once the
 * consumer stops, every source is told to return (each ends with the request's signal).
 */
export async function* mergeEventStreams(sources: AsyncIterable<ContainerEvent[]>[]): AsyncGenerator<ContainerEvent[]> {
  const iterators = sources.map((source) => source[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<ContainerEvent[]> }>>();
  const pull = (index: number) =>
    pending.set(
      index,
      iterators[index]!.next().then((result) => ({ index, result })),
    );
  iterators.forEach((_, index) => pull(index));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done === true) {
        pending.delete(index);
        continue;
      }
      pull(index);
      yield result.value;
    }
  } finally {
    for (const iterator of iterators) void iterator.return?.().catch(() => undefined);
  }
}
