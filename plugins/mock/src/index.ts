import { PLUGIN_API_VERSION, definePlugin, registerEngine } from '@enginegate/plugin-api';
import { MockEngine } from './mock-engine.js';
import { MOCK_SETTINGS } from './mock-settings.js';

export { MockEngine, type MockEngineOptions } from './mock-engine.js';
export { DEFAULT_MOCK_IMAGE, mockContainerId, type MockContainerSpec } from './simulated-container.js';
export {
  MOCK_CONTAINERS,
  MOCK_EXIT_CODE,
  builtinContainerSpecs,
  mockBytesLines,
  mockBytesOutput,
  type BuiltinContainerName,
} from './builtin-containers.js';
export {
  DEMO_MIGRATE_EXIT_CODE,
  DEMO_PROJECT,
  DEMO_WORKER_START_MS,
  demoProjectContainers,
  type DemoContainer,
  type DemoContainerName,
} from './demo-project.js';
export { MOCK_SETTINGS } from './mock-settings.js';
export { MAX_BATCH_BYTES, MAX_BATCH_LINES } from './mock-log-reader.js';
export { systemClock, type Clock } from './clock.js';

/**
 * The `mock` engine plugin. Settings (MOCK_SETTINGS): `builtinContainers: false` starts it empty
 * (the testkit adds its own containers through `MockEngine.addContainer`); `demoProject` turns
 * Compose project 'demo' on or off (default: as `builtinContainers`).
 */
export default definePlugin({
  name: 'mock',
  apiVersion: PLUGIN_API_VERSION,
  settings: MOCK_SETTINGS,
  register(container) {
    // Built when the gateway resolves it, from the scope's services: a test's clock replaces the system's.
    registerEngine(container, ({ settings, logger, clock }) => {
      const demoProject = settings['demoProject'];
      return new MockEngine({
        logger,
        clock,
        builtinContainers: settings['builtinContainers'] !== false,
        ...(typeof demoProject === 'boolean' ? { demoProject } : {}),
      });
    });
  },
});
