import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from 'node:http';
import type { DockerOptions } from 'dockerode';
import { EngineUnavailableError, InvalidArgumentError } from '@enginegate/plugin-api';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Where the Docker daemon is, as the Docker CLI finds it. */
export type DockerEndpoint =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls?: { verify: boolean; ca?: Buffer; cert?: Buffer; key?: Buffer } };

/**
 * `config.dockerSocket` (the CLI's `--docker-socket`, a path or `unix://` URL) wins; else
 * `DOCKER_HOST` (`unix://PATH` or `tcp://HOST:PORT`, with `DOCKER_TLS_VERIFY` /
 * `DOCKER_TLS` / `DOCKER_CERT_PATH` as the Docker CLI reads them); else `/var/run/docker.sock`.
 */
export function resolveDockerEndpoint(
  config: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): DockerEndpoint {
  const configured = config['dockerSocket'];
  if (configured !== undefined && configured !== null && configured !== '') {
    if (typeof configured !== 'string') {
      throw new InvalidArgumentError('dockerSocket', 'dockerSocket must be a path to the Docker socket');
    }
    return {
      kind: 'unix',
      socketPath: configured.startsWith('unix://') ? configured.slice('unix://'.length) : configured,
    };
  }
  const dockerHost = env['DOCKER_HOST'];
  if (dockerHost === undefined || dockerHost === '') return { kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET };
  if (dockerHost.startsWith('unix://')) {
    return { kind: 'unix', socketPath: dockerHost.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET };
  }
  let url: URL;
  try {
    url = new URL(dockerHost.includes('://') ? dockerHost : `tcp://${dockerHost}`);
  } catch {
    throw new EngineUnavailableError(
      `DOCKER_HOST=${dockerHost} is not a Docker address (unix://PATH or tcp://HOST:PORT)`,
    );
  }
  if (url.protocol !== 'tcp:' && url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EngineUnavailableError(`DOCKER_HOST=${dockerHost}: only unix:// and tcp:// are supported`);
  }
  // The Docker CLI: any non-empty DOCKER_TLS_VERIFY means TLS with verification.
  const verify = (env['DOCKER_TLS_VERIFY'] ?? '') !== '';
  const tls = verify || (env['DOCKER_TLS'] ?? '') !== '' || url.protocol === 'https:';
  const port = url.port !== '' ? Number(url.port) : tls ? 2376 : 2375;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!tls) return { kind: 'tcp', host, port };
  const certPath = env['DOCKER_CERT_PATH'] || join(homedir(), '.docker');
  const readPem = (name: string): Buffer | undefined => {
    try {
      return readFileSync(join(certPath, name));
    } catch (err) {
      if (verify && name === 'ca.pem') {
        throw new EngineUnavailableError(`DOCKER_TLS_VERIFY is set but ${join(certPath, name)} cannot be read`, {
          cause: err,
        });
      }
      return undefined;
    }
  };
  const tlsOptions: NonNullable<Extract<DockerEndpoint, { kind: 'tcp' }>['tls']> = { verify };
  const ca = readPem('ca.pem');
  const cert = readPem('cert.pem');
  const key = readPem('key.pem');
  if (ca) tlsOptions.ca = ca;
  if (cert) tlsOptions.cert = cert;
  if (key) tlsOptions.key = key;
  return { kind: 'tcp', host, port, tls: tlsOptions };
}

export function describeDockerEndpoint(endpoint: DockerEndpoint): string {
  if (endpoint.kind === 'unix') return `unix://${endpoint.socketPath}`;
  return `${endpoint.tls ? 'https' : 'http'}://${endpoint.host}:${endpoint.port}`;
}

/** docker-modem takes an http(s) Agent; @types/dockerode does not list it. */
export type DockerodeOptions = DockerOptions & { agent?: Agent };

/**
 * dockerode options for an endpoint. Every field docker-modem would otherwise take from the
 * environment is set explicitly (undefined included): no `DOCKER_CLIENT_TIMEOUT` may cut a
 * follow stream, and a `DOCKER_HOST` must not override `--docker-socket`.
 */
export function dockerodeOptions(endpoint: DockerEndpoint, agent: Agent): DockerodeOptions {
  const base: DockerodeOptions = {
    socketPath: undefined,
    host: undefined,
    port: undefined,
    protocol: undefined,
    ca: undefined,
    cert: undefined,
    key: undefined,
    timeout: undefined,
    agent,
  };
  if (endpoint.kind === 'unix') return { ...base, socketPath: endpoint.socketPath };
  const options: DockerodeOptions = {
    ...base,
    host: endpoint.host,
    port: endpoint.port,
    protocol: endpoint.tls ? 'https' : 'http',
  };
  if (endpoint.tls?.ca) options.ca = endpoint.tls.ca;
  if (endpoint.tls?.cert) options.cert = endpoint.tls.cert;
  if (endpoint.tls?.key) options.key = endpoint.tls.key;
  return options;
}
