// Whether the owner of a log stream still runs: a container (inspect) or a remote swarm task
// (`GET /tasks/{id}`), in the form plugin-api's containerEnding reads.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRfc3339, type ContainerRunState } from '@enginegate/plugin-api';
import type { DockerClient } from './docker-client.js';
import { httpStatusOf } from './docker-errors.js';
import { taskRunState } from './remote-tasks.js';

/** How often a followed remote task is asked whether it has ended (the broker's follow never ends). */
const TASK_STATE_POLL_MS = 500;

/** The run state of a container, or of `taskId` when given; 'removed' when it is gone. */
export async function runStateOf(
  client: DockerClient,
  owner: { containerId: string; taskId?: string },
  signal: AbortSignal,
): Promise<ContainerRunState | 'removed'> {
  if (owner.taskId !== undefined) return taskRunState(client, owner.taskId, signal);
  let state;
  try {
    state = (await client.inspect(owner.containerId, signal)).State;
  } catch (err) {
    if (httpStatusOf(err) === 404) return 'removed';
    throw err;
  }
  return {
    running: state.Running || state.Restarting,
    neverStarted: state.Status === 'created',
    exitCode: state.ExitCode,
    finishedAt: parseRfc3339(state.FinishedAt),
  };
}

/**
 * Polls a remote task until it has ended or is gone (true), or `signal` stops the watch
 * (false). A failed poll is asked again: the stream itself notices a daemon that is gone.
 */
export async function whenTaskEnded(client: DockerClient, taskId: string, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    await sleep(TASK_STATE_POLL_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return false;
    const state = await taskRunState(client, taskId, signal).catch(() => undefined);
    if (state === 'removed' || (state !== undefined && !state.running)) return true;
  }
  return false;
}
