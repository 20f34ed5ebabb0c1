import { DeferredEngine, PLUGIN_API_VERSION, definePlugin, registerEngine } from '@enginegate/plugin-api';
import { CONTAINERD_SETTINGS, readPluginConfig } from './plugin-config.js';

/**
 * The `containerd` plugin as `enginegate serve` bundles it: the engine (gRPC, protobufjs and
 * the protos) is imported at its first start, not when the gateway starts on another engine.
 * Its settings are read at once, so that a wrong one is still an error at start-up.
 */
export default definePlugin({
  name: 'containerd',
  apiVersion: PLUGIN_API_VERSION,
  settings: CONTAINERD_SETTINGS,
  register(container) {
    registerEngine(container, ({ settings, logger, reportHealth }) => {
      const config = readPluginConfig(settings);
      return new DeferredEngine(
        'containerd',
        async () => new (await import('./containerd-engine.js')).ContainerdEngine({ config, logger, reportHealth }),
        true,
      );
    });
  },
});
