import { LogsUnsupportedError, inspectContainerRef } from '@enginegate/plugin-api';
import type { LibpodClient } from './libpod-client.js';
import type { LibpodInspect } from './libpod-types.js';
import { isAmbiguousPrefixError, toEngineError } from './podman-errors.js';

/** Log drivers that keep nothing Podman can give back. */
const UNREADABLE_DRIVERS = new Set(['none', 'passthrough', 'passthrough-tty']);

export interface ResolvedContainer {
  id: string;
  name: string;
  tty: boolean;
  /** RFC3339Nano, for where a log can start. */
  createdAt: string;
  inspect: LibpodInspect;
}

/**
 * Resolves a full ID, a unique ID prefix or a name the way `podman logs` does (Podman's own
 * lookup), and checks that its logs can be read. Throws ContainerNotFoundError,
 * AmbiguousContainerError, LogsUnsupportedError or EngineUnavailableError.
 */
export async function resolveContainer(
  client: LibpodClient,
  ref: string,
  signal?: AbortSignal,
): Promise<ResolvedContainer> {
  const inspect = await inspectContainerRef(client, ref, signal, { isAmbiguousPrefixError, toEngineError });
  const driver = inspect.HostConfig?.LogConfig?.Type ?? 'k8s-file';
  if (UNREADABLE_DRIVERS.has(driver)) {
    throw new LogsUnsupportedError(`container ${ref} uses the "${driver}" log driver: Podman keeps no logs of it`);
  }
  return {
    id: inspect.Id,
    name: inspect.Name,
    tty: inspect.Config.Tty === true,
    createdAt: inspect.Created,
    inspect,
  };
}
