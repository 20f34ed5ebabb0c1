import type { PluginSettingsSchema } from '@enginegate/plugin-api';

/** Bounds every request to the daemon but the log streams' bodies (those must never time out). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** The moby plugin's settings, validated (and listed by `enginegate serve --help`) by the gateway. */
export const MOBY_SETTINGS = {
  type: 'object',
  properties: {
    dockerSocket: {
      type: 'string',
      description:
        'the Docker socket, a path or unix:// URL (alias --docker-socket); without it DOCKER_HOST, ' +
        'DOCKER_TLS_VERIFY and DOCKER_CERT_PATH as the Docker CLI reads them, else /var/run/docker.sock',
    },
    requestTimeoutMs: {
      type: 'number',
      exclusiveMinimum: 0,
      default: DEFAULT_REQUEST_TIMEOUT_MS,
      description: "bounds each request to the daemon (inspect, list, a logs response's headers; never a log body), ms",
    },
  },
  additionalProperties: false,
} satisfies PluginSettingsSchema;
