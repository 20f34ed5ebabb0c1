import { DeferredEngine, PLUGIN_API_VERSION, definePlugin, registerEngine } from '@enginegate/plugin-api';
import { MOBY_SETTINGS } from './moby-settings.js';

/**
 * The `moby` plugin as `enginegate serve` bundles it: the engine (dockerode, ssh2) is imported
 * at its first start, not when the gateway starts on another engine.
 */
export default definePlugin({
  name: 'moby',
  apiVersion: PLUGIN_API_VERSION,
  settings: MOBY_SETTINGS,
  register(container) {
    registerEngine(
      container,
      ({ settings, logger, reportHealth }) =>
        new DeferredEngine(
          'moby',
          async () => new (await import('./moby-engine.js')).MobyEngine({ config: settings, logger, reportHealth }),
          true,
        ),
    );
  },
});
