export { createGateway, runGateway, type Gateway } from './gateway.js';
export { DEFAULT_HOST, DEFAULT_PORT, isLoopbackHost, type GatewayOptions } from './gateway-options.js';
export { defaultStateDir, readTokenFile, TOKEN_FILE_NAME } from './state-dir.js';
export { EngineManager, type EngineChange, type EngineSnapshot, type EngineStatus } from './engine-manager.js';
export { PluginLoader, PluginLoadError, checkPluginShape } from './plugin-loader.js';
export { AUTH_SUBPROTOCOL_PREFIX } from './access-control.js';
export { FRAMING_SUBPROTOCOLS, RAW_MAX_LINE_BYTES, BINARY_STREAM_BYTE, type FramingName } from './logs/log-framing.js';
export { CLOSE } from './logs/log-stream.js';
export { settingEnvName, type PluginSettingSources } from './plugin-settings.js';
