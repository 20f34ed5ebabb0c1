// Busybox containers on a private dockerd (the offline image, no network), for the suites.
import type Dockerode from 'dockerode';

/** What running a container needs of a PrivateDockerd. */
interface DaemonClient {
  readonly docker: Dockerode;
  readonly image: string;
}

export interface BusyboxContainerOptions {
  name?: string;
  tty?: boolean;
  /** A Docker log driver, e.g. `none` (default: the daemon's, json-file). */
  logDriver?: string;
  /** Start it (default true); false leaves it created. */
  start?: boolean;
  /** `docker run --label`s. */
  labels?: Record<string, string>;
}

/** Runs `sh -c script` in a detached busybox container without network; resolves to its full ID. */
export async function runBusybox(
  dockerd: DaemonClient,
  script: string,
  options: BusyboxContainerOptions = {},
): Promise<string> {
  const container = await dockerd.docker.createContainer({
    Image: dockerd.image,
    Cmd: ['sh', '-c', script],
    Tty: options.tty ?? false,
    // `sh` as PID 1 ignores SIGTERM: without this, every stop (and a daemon's shutdown) waits 10 s.
    StopTimeout: 1,
    ...(options.labels !== undefined ? { Labels: options.labels } : {}),
    ...(options.name !== undefined ? { name: options.name } : {}),
    HostConfig: {
      NetworkMode: 'none',
      ...(options.logDriver !== undefined ? { LogConfig: { Type: options.logDriver, Config: {} } } : {}),
    },
  });
  if (options.start !== false) await container.start();
  return container.id;
}

/** Resolves once the container has exited; returns its exit code. */
export async function waitForExitCode(dockerd: DaemonClient, id: string): Promise<number> {
  const result = (await dockerd.docker.getContainer(id).wait()) as { StatusCode: number };
  return result.StatusCode;
}
