// The `enginegate` command as a library: what bin.ts runs, and the pieces its tests check.
export { main, COMMANDS, MAIN_USAGE } from './main.js';
export type { Command, CommandContext } from './command-line.js';
export { CliError, UsageError, GatewayResponseError, GatewayUnreachableError } from './cli-errors.js';
export {
  DEFAULT_GATEWAY_URL,
  GatewayClient,
  parseGatewayAddress,
  resolveToken,
  type GatewayAddress,
  type ResolvedToken,
} from './gateway-client.js';
export {
  followLogs,
  DEFAULT_RETRY_POLICY,
  DEFAULT_SILENCE_TIMEOUT_MS,
  type FollowLogsOptions,
  type RetryPolicy,
} from './log-follower.js';
export { LogPrinter, timestampPrefix, type LogPrinterOptions } from './log-printer.js';
export { formatTable } from './text-table.js';
export { buildLogsQuery, type LogsArguments } from './commands/logs.js';
export { formatContainerTable } from './commands/ps.js';
export { formatEngineStatus, type EngineStatus } from './commands/engine.js';
export { formatDiscovery, type Discovery } from './commands/endpoints.js';
export { BUNDLED_PLUGINS, resolvePluginSpecifier } from './plugin-specs.js';
export { parsePluginConfigFlags } from './plugin-config-flags.js';
export {
  clientCommand,
  dockerSocketFromEnv,
  parseListenAddress,
  startBanner,
  viewerLink,
  type StartBannerFacts,
} from './commands/serve.js';
