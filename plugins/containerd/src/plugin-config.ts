import { InvalidArgumentError, type PluginSettingsSchema } from '@enginegate/plugin-api';
import { DEFAULT_LOG_ROOTS } from './log-roots.js';

export const DEFAULT_CONTAINERD_ADDRESS = '/run/containerd/containerd.sock';
/**
 * How long a followed log must stay quiet after its task exited before the stream ends: the
 * shim may still be copying the last lines into the file after the exit event (seen taking
 * over 200 ms on a loaded 2-core machine).
 */
export const DEFAULT_EXIT_SETTLE_MS = 600;

const DEFAULT_POLL_INTERVAL_MS = 250;

/** The settings as the gateway validates them (and `enginegate serve --help` lists them). */
export const CONTAINERD_SETTINGS = {
  type: 'object',
  properties: {
    address: {
      type: 'string',
      minLength: 1,
      description: `containerd's gRPC socket (alias --containerd-address); without it CONTAINERD_ADDRESS, else ${DEFAULT_CONTAINERD_ADDRESS}`,
    },
    logRoots: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: DEFAULT_LOG_ROOTS,
      description: 'log files are read only below these directories (alias --log-root, repeatable)',
    },
    pollIntervalMs: {
      type: 'number',
      exclusiveMinimum: 0,
      default: DEFAULT_POLL_INTERVAL_MS,
      description: 'how often a follower looks at its file when no file-system event came, ms',
    },
    exitSettleMs: {
      type: 'number',
      exclusiveMinimum: 0,
      default: DEFAULT_EXIT_SETTLE_MS,
      description: 'after a task exits, how long its log must stay quiet before a follow ends, ms',
    },
    journalctlPath: {
      type: 'string',
      default: 'journalctl',
      description: 'the journalctl that reads containers whose nerdctl log driver is journald',
    },
    protoDir: { type: 'string', description: "containerd's proto files (default: the plugin's own proto/)" },
  },
  additionalProperties: false,
} satisfies PluginSettingsSchema;

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
    pollIntervalMs: positiveNumber(config['pollIntervalMs'], 'pollIntervalMs', DEFAULT_POLL_INTERVAL_MS),
    exitSettleMs: positiveNumber(config['exitSettleMs'], 'exitSettleMs', DEFAULT_EXIT_SETTLE_MS),
  };
}
