import { EngineUnavailableError, InvalidArgumentError } from '@enginegate/plugin-api';

/** Where a rootful `podman system service` listens by default (podman.socket). */
export const DEFAULT_PODMAN_SOCKET = '/run/podman/podman.sock';

/** Where the Podman service is, as Podman's own remote clients find it. */
export type PodmanEndpoint = { kind: 'unix'; socketPath: string } | { kind: 'tcp'; host: string; port: number };

function unixPath(value: string): string {
  return value.startsWith('unix://') ? value.slice('unix://'.length) : value;
}

/**
 * `config.podmanSocket` (the CLI's `--podman-socket`; a path or `unix://` URL) wins; else
 * `CONTAINER_HOST` as `podman --remote` reads it (`unix:///PATH` or `tcp://HOST:PORT`; `ssh://`
 * needs Podman's own SSH tunnel and is refused with a clear message); else
 * /run/podman/podman.sock.
 */
export function resolvePodmanEndpoint(
  config: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): PodmanEndpoint {
  const configured = config['podmanSocket'];
  if (configured !== undefined && configured !== null && configured !== '') {
    if (typeof configured !== 'string') {
      throw new InvalidArgumentError('podmanSocket', 'podmanSocket must be a path to the Podman socket');
    }
    return { kind: 'unix', socketPath: unixPath(configured) };
  }
  const containerHost = env['CONTAINER_HOST'];
  if (containerHost === undefined || containerHost === '') return { kind: 'unix', socketPath: DEFAULT_PODMAN_SOCKET };
  if (containerHost.startsWith('unix://')) {
    return { kind: 'unix', socketPath: unixPath(containerHost) || DEFAULT_PODMAN_SOCKET };
  }
  let url: URL;
  try {
    url = new URL(containerHost);
  } catch {
    throw new EngineUnavailableError(`CONTAINER_HOST=${containerHost} is not a Podman address (unix:///PATH)`);
  }
  if (url.protocol === 'tcp:' && url.hostname !== '' && url.port !== '') {
    return { kind: 'tcp', host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) };
  }
  throw new EngineUnavailableError(
    `CONTAINER_HOST=${containerHost}: only unix:///PATH and tcp://HOST:PORT are supported (for ssh://, forward the socket and pass --podman-socket)`,
  );
}

export function describePodmanEndpoint(endpoint: PodmanEndpoint): string {
  return endpoint.kind === 'unix' ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
}
