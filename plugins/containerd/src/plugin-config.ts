import { InvalidArgumentError } from '@enginegate/plugin-api';
import { DEFAULT_LOG_ROOTS } from './log-roots.js';

export const DEFAULT_CONTAINERD_ADDRESS = '/run/containerd/containerd.sock';
/**
 * How long a followed log must stay quiet after its task exited before the stream ends: the
 * shim may still be copying the last lines into the file after the exit event (seen taking
 * over 200 ms on a loaded 2-core machine).
 */
export const DEFAULT_EXIT_SETTLE_MS = 600;

/** The containerd plugin's settings (`pluginConfig.containerd`, CLI flags, environment). */
export interface ContainerdPluginConfig {
  /** containerd's gRPC socket (`--containerd-address`, `CONTAINERD_ADDRESS`). */
  address: string;
  /** Log files are read only below these directories (`--log-root`, repeatable). */
  logRoots: string[];
  /** The directory of the proto files; defaults to the package's own `proto/`. */
  protoDir?: string;
  /** Used for containers whose nerdctl log driver is journald. */
  journalctlPath: string;
  /** How often a follower looks at its file when no fs event came (ms). */
  pollIntervalMs: number;
  /** After a task exits, how long its log must stay quiet before the stream ends (ms). */
  exitSettleMs: number;
}

function stringList(value: unknown, name: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new InvalidArgumentError(name, `containerd plugin: ${name} must be a list of paths`);
  }
  return list as string[];
}

function positiveNumber(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) {
    throw new InvalidArgumentError(name, `containerd plugin: ${name} must be a positive number`);
  }
  return value;
}

export function readPluginConfig(
  config: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): ContainerdPluginConfig {
  const address = config['address'] ?? env.CONTAINERD_ADDRESS ?? DEFAULT_CONTAINERD_ADDRESS;
  if (typeof address !== 'string' || address.length === 0) {
    throw new InvalidArgumentError('address', 'containerd plugin: address must be a socket path');
  }
  const protoDir = config['protoDir'];
  const journalctlPath = config['journalctlPath'] ?? 'journalctl';
  return {
    address,
    logRoots: stringList(config['logRoots'], 'logRoots') ?? [...DEFAULT_LOG_ROOTS],
    protoDir: typeof protoDir === 'string' ? protoDir : undefined,
    journalctlPath: typeof journalctlPath === 'string' ? journalctlPath : 'journalctl',
    pollIntervalMs: positiveNumber(config['pollIntervalMs'], 'pollIntervalMs', 250),
    exitSettleMs: positiveNumber(config['exitSettleMs'], 'exitSettleMs', DEFAULT_EXIT_SETTLE_MS),
  };
}
