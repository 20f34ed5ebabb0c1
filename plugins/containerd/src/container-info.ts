import { formatTimestamp, type ContainerInfo } from '@enginegate/plugin-api';
import type { ContainerdContainer, ContainerdTask } from './containerd-client.js';
import { containerNames } from './container-resolver.js';

// A containerd container as the plugin describes it, in its listing and in its events.

const TASK_STATE: Record<string, string> = {
  CREATED: 'created',
  RUNNING: 'running',
  STOPPED: 'exited',
  PAUSED: 'paused',
  PAUSING: 'paused',
  UNKNOWN: 'unknown',
};

export function toContainerInfo(container: ContainerdContainer, task: ContainerdTask | undefined): ContainerInfo {
  return {
    id: container.id,
    names: containerNames(container),
    namespace: container.namespace,
    image: container.image,
    // No task: created and never started, or its task was deleted after it exited.
    state: task ? (TASK_STATE[task.status] ?? 'unknown') : 'created',
    tty: task?.terminal ?? specWantsTerminal(container),
    createdAt: container.createdAt !== null ? formatTimestamp(container.createdAt) : '',
    labels: container.labels,
  };
}

/** `process.terminal` of the OCI spec, which containerd stores as JSON inside an Any. */
function specWantsTerminal(container: ContainerdContainer): boolean {
  if (!container.spec?.value?.length) return false;
  try {
    const spec = JSON.parse(container.spec.value.toString('utf8')) as { process?: { terminal?: unknown } } | null;
    return spec?.process?.terminal === true;
  } catch {
    return false;
  }
}
