import { DeferredEngine, PLUGIN_API_VERSION, definePlugin, registerEngine } from '@enginegate/plugin-api';
import { PODMAN_SETTINGS } from './podman-settings.js';

/**
 * The `podman` plugin as `enginegate serve` bundles it: the engine's code (client, parsers,
 * cursors) is imported at its first start, not when the gateway starts on another engine.
 */
export default definePlugin({
  name: 'podman',
  apiVersion: PLUGIN_API_VERSION,
  settings: PODMAN_SETTINGS,
  register(container) {
    registerEngine(
      container,
      ({ settings, logger, reportHealth }) =>
        new DeferredEngine(
          'podman',
          async () => new (await import('./podman-engine.js')).PodmanEngine({ config: settings, logger, reportHealth }),
          true,
        ),
    );
  },
});
