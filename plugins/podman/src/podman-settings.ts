import type { PluginSettingsSchema } from '@enginegate/plugin-api';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './libpod-client.js';

/** The podman plugin's settings, validated (and listed by `enginegate serve --help`) by the gateway. */
export const PODMAN_SETTINGS = {
  type: 'object',
  properties: {
    podmanSocket: {
      type: 'string',
      description:
        "the Podman service's socket, a path or unix:// URL (alias --podman-socket); without it " +
        'CONTAINER_HOST as podman --remote reads it, else /run/podman/podman.sock',
    },
    requestTimeoutMs: {
      type: 'number',
      exclusiveMinimum: 0,
      default: DEFAULT_REQUEST_TIMEOUT_MS,
      description:
        "bounds each request to the service (inspect, list, a logs response's headers; never a log body), ms",
    },
  },
  additionalProperties: false,
} satisfies PluginSettingsSchema;
