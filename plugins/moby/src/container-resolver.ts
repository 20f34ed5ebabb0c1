import { LogsUnsupportedError, hasErrorCode, inspectContainerRef } from '@enginegate/plugin-api';
import type { ContainerInspectInfo, DockerClient } from './docker-client.js';
import { isAmbiguousPrefixError, toEngineError } from './docker-errors.js';
import { findRemoteTask } from './remote-tasks.js';

/** Log drivers the daemon itself can read back. */
const READABLE_DRIVERS = new Set(['json-file', 'local', 'journald', 'etwlogs']);

export interface ResolvedContainer {
  id: string;
  name: string;
  tty: boolean;
  logDriver: string;
  inspect: ContainerInspectInfo;
}

/** Whose logs a stream reads: a container of this daemon, or a swarm task on another node. */
export type LogOwner = Omit<ResolvedContainer, 'inspect'> & { taskId?: string };

/**
 * A container of this daemon (resolveContainer); failing that, on a swarm manager, a task on
 * another node whose container the reference names (its logs come through `/tasks/{id}/logs`).
 */
export async function resolveLogOwner(client: DockerClient, ref: string, signal?: AbortSignal): Promise<LogOwner> {
  try {
    return await resolveContainer(client, ref, signal);
  } catch (err) {
    if (!hasErrorCode(err, 'CONTAINER_NOT_FOUND')) throw err;
    const remote = await findRemoteTask(client, ref, signal).catch((lookup: unknown) => {
      throw hasErrorCode(lookup, 'CONTAINER_NOT_FOUND') ? err : lookup;
    });
    return {
      id: remote.info.id,
      name: remote.info.names[0]!,
      tty: remote.info.tty,
      logDriver: remote.logDriver,
      taskId: remote.taskId,
    };
  }
}

/**
 * Resolves a full ID, a unique ID prefix or a name the way `docker logs` does (Docker's own
 * lookup: exact ID, then name, then prefix), and checks that its logs can be read.
 * Throws ContainerNotFoundError, AmbiguousContainerError, LogsUnsupportedError or
 * EngineUnavailableError.
 */
export async function resolveContainer(
  client: DockerClient,
  ref: string,
  signal?: AbortSignal,
): Promise<ResolvedContainer> {
  const inspect = await inspectContainerRef(client, ref, signal, { isAmbiguousPrefixError, toEngineError });
  checkLogsReadable(inspect, ref);
  return {
    id: inspect.Id,
    name: inspect.Name.replace(/^\//, ''),
    tty: inspect.Config.Tty === true,
    logDriver: inspect.HostConfig?.LogConfig?.Type ?? 'json-file',
    inspect,
  };
}

/**
 * `none` writes nothing; a remote driver (syslog, fluentd, …) is readable only through
 * Docker's dual-logging cache, unless that was turned off with `cache-disabled=true`.
 */
function checkLogsReadable(inspect: ContainerInspectInfo, ref: string): void {
  const logConfig = inspect.HostConfig?.LogConfig;
  const driver = logConfig?.Type ?? 'json-file';
  if (driver === 'none') {
    throw new LogsUnsupportedError(`container ${ref} uses the "none" log driver: it keeps no logs`);
  }
  const cacheDisabled =
    String((logConfig?.Config as Record<string, string> | undefined)?.['cache-disabled'] ?? '') === 'true';
  if (!READABLE_DRIVERS.has(driver) && cacheDisabled) {
    throw new LogsUnsupportedError(
      `container ${ref} uses the "${driver}" log driver with Docker's local cache disabled: its logs cannot be read back`,
    );
  }
}
