import { PLUGIN_API_VERSION, definePlugin, registerEngine } from '@enginegate/plugin-api';
import { PodmanEngine } from './podman-engine.js';
import { PODMAN_SETTINGS } from './podman-settings.js';

export { PodmanEngine, type PodmanEngineOptions } from './podman-engine.js';
export { LibpodClient, LIBPOD_PREFIX, type LibpodLogsQuery } from './libpod-client.js';
export {
  DEFAULT_PODMAN_SOCKET,
  describePodmanEndpoint,
  resolvePodmanEndpoint,
  type PodmanEndpoint,
} from './podman-endpoint.js';
export { PODMAN_SETTINGS } from './podman-settings.js';
export { PodmanLogParser, type ParsedRecord, type ParsedRecordSink } from './podman-log-parser.js';
export { libpodLogsQuery, floorSecond } from './libpod-logs-query.js';
export {
  comparePositions,
  decodeRecordCursor,
  encodeRecordCursor,
  FLUSH_BOTH,
  FLUSH_STDERR,
  FLUSH_STDOUT,
  type RecordPosition,
} from './record-position.js';
export type { PodmanContainerInfo, PodmanPodInfo } from './listing.js';

/**
 * The `podman` engine plugin: the libpod REST API of `podman system service`. Its settings are
 * PODMAN_SETTINGS (`podmanSocket`, `requestTimeoutMs`).
 */
export default definePlugin({
  name: 'podman',
  apiVersion: PLUGIN_API_VERSION,
  settings: PODMAN_SETTINGS,
  register(container) {
    registerEngine(
      container,
      ({ settings, logger, reportHealth }) => new PodmanEngine({ config: settings, logger, reportHealth }),
    );
  },
});
