import { PLUGIN_API_VERSION, definePlugin, registerEngine } from '@enginegate/plugin-api';
import { MobyEngine } from './moby-engine.js';
import { MOBY_SETTINGS } from './moby-settings.js';

export { MobyEngine, type MobyEngineOptions } from './moby-engine.js';
export { DockerClient } from './docker-client.js';
export {
  DEFAULT_DOCKER_SOCKET,
  describeDockerEndpoint,
  resolveDockerEndpoint,
  type DockerEndpoint,
} from './docker-endpoint.js';
export { MultiplexedLogParser, TtyLogParser, DOCKER_PIECE_BYTES, type DockerLogParser } from './docker-log-parsers.js';
export { MOBY_SETTINGS } from './moby-settings.js';
export { toDockerTimeParam } from './docker-timestamp.js';
export { dockerLogsQuery } from './docker-logs-query.js';
export {
  SwarmDirectory,
  type SwarmRole,
  type SwarmService,
  type SwarmTask,
  type SwarmView,
} from './swarm-directory.js';

/**
 * The `moby` engine plugin: Docker Engine API through dockerode. Its settings are MOBY_SETTINGS
 * (`dockerSocket`, `requestTimeoutMs`).
 */
export default definePlugin({
  name: 'moby',
  apiVersion: PLUGIN_API_VERSION,
  settings: MOBY_SETTINGS,
  register(container) {
    registerEngine(
      container,
      ({ settings, logger, reportHealth }) => new MobyEngine({ config: settings, logger, reportHealth }),
    );
  },
});
