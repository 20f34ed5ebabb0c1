import { PLUGIN_API_VERSION, definePlugin } from '@enginegate/plugin-api';
import { asValue } from 'awilix';
import { parseConfig } from './plugin-config.js';
import { ProcessLogsEngine } from './process-logs-engine.js';

export { ProcessLogsEngine } from './process-logs-engine.js';
export { COMMANDS_FILE_ENV, type CommandSpec, type ProcessLogsConfig } from './plugin-config.js';

/**
 * The `process-logs` engine plugin: its containers are processes started from a command list.
 * Config: `{ commands: [{ name, command, args?, cwd?, env? }], maxLogBytes?, stopGraceMs? }`, or
 * `commandsFile` / `$ENGINEGATE_PROCESS_LOGS_FILE` naming a JSON file with the commands.
 */
export default definePlugin({
  name: 'process-logs',
  apiVersion: PLUGIN_API_VERSION,
  register(container, options) {
    const engine = new ProcessLogsEngine(parseConfig(options.config), options.logger);
    container.register({ processLogsEngine: asValue(engine) });
    return engine;
  },
});
