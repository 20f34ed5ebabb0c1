// An enginegate engine plugin: every file of a folder is a container, and its lines are its log.
// `enginegate plugin new` wrote it as a starting point; replace the folder with your engine.
import { PLUGIN_API_VERSION, definePlugin } from '@enginegate/plugin-api';
import { FolderEngine } from './folder-engine.js';

export { conformance } from './conformance.js';
export { FolderEngine } from './folder-engine.js';

/** The engine's name: `serve --engine NAME`, `--plugin-config NAME.dir=PATH`, `ENGINEGATE_NAME_DIR`. */
export const PLUGIN_NAME = 'folder';

export default definePlugin({
  name: PLUGIN_NAME,
  apiVersion: PLUGIN_API_VERSION,
  // The gateway checks the settings against this schema when it loads the plugin, and names the
  // plugin and the key in any mistake (a missing `dir` refuses the plugin).
  settings: {
    type: 'object',
    properties: {
      dir: { type: 'string', description: 'the folder whose files are the containers (made when missing)' },
    },
    required: ['dir'],
    additionalProperties: false,
  },
  // Runs once, when the gateway loads the plugin: no I/O here, start() connects.
  register(_container, options) {
    return new FolderEngine(PLUGIN_NAME, options.config['dir'] as string, options.logger);
  },
});
