import { readFileSync } from 'node:fs';
import { InvalidArgumentError, validateContainerRef } from '@enginegate/plugin-api';

/** A process to start: it plays a container named `name`. */
export interface CommandSpec {
  name: string;
  command: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
}

export interface ProcessLogsConfig {
  /** Started when the engine starts, stopped when it stops. */
  commands: CommandSpec[];
  /** Bytes of output kept per process; the oldest lines go first (default 8 MiB). */
  maxLogBytes: number;
  /** How long a process gets to exit after SIGTERM before SIGKILL (default 2000 ms). */
  stopGraceMs: number;
}

/** Read when the gateway hands no `commands` (the `enginegate` CLI passes no plugin settings). */
export const COMMANDS_FILE_ENV = 'ENGINEGATE_PROCESS_LOGS_FILE';
const DEFAULT_MAX_LOG_BYTES = 8 * 1024 * 1024;
const DEFAULT_STOP_GRACE_MS = 2000;

/**
 * Checks the plugin's settings: `{ commands?, commandsFile?, maxLogBytes?, stopGraceMs? }`, where
 * `commandsFile` (or `$ENGINEGATE_PROCESS_LOGS_FILE`) is a JSON file holding the commands array.
 * A mistake throws, so `register` fails and the gateway reports the plugin by name.
 */
export function parseConfig(
  config: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): ProcessLogsConfig {
  let commands: unknown = config['commands'];
  const file = config['commandsFile'] ?? (commands === undefined ? env[COMMANDS_FILE_ENV] : undefined);
  if (file !== undefined) {
    if (typeof file !== 'string') throw new InvalidArgumentError('commandsFile', 'commandsFile must be a path');
    try {
      commands = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new InvalidArgumentError(
        'commandsFile',
        `cannot read the commands from ${file}: ${(err as Error).message}`,
      );
    }
  }
  const list = commands ?? [];
  if (!Array.isArray(list))
    throw new InvalidArgumentError('commands', 'commands must be an array of { name, command, args? }');
  const names = new Set<string>();
  const parsed = list.map((entry: unknown, i) => {
    const spec = checkCommandSpec(entry, `commands[${i}]`);
    if (names.has(spec.name))
      throw new InvalidArgumentError('commands', `commands[${i}]: the name ${spec.name} is used twice`);
    names.add(spec.name);
    return spec;
  });
  return {
    commands: parsed,
    maxLogBytes: positiveNumber(config['maxLogBytes'], 'maxLogBytes', DEFAULT_MAX_LOG_BYTES),
    stopGraceMs: positiveNumber(config['stopGraceMs'], 'stopGraceMs', DEFAULT_STOP_GRACE_MS),
  };
}

export function checkCommandSpec(entry: unknown, where = 'command'): CommandSpec {
  if (entry === null || typeof entry !== 'object')
    throw new InvalidArgumentError('commands', `${where} must be an object`);
  const { name, command, args, cwd, env } = entry as Record<string, unknown>;
  try {
    validateContainerRef(name);
  } catch (err) {
    throw new InvalidArgumentError('commands', `${where}.name: ${(err as Error).message}`);
  }
  if (typeof command !== 'string' || command === '')
    throw new InvalidArgumentError('commands', `${where}.command must be a program to run`);
  if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string'))) {
    throw new InvalidArgumentError('commands', `${where}.args must be an array of strings`);
  }
  if (cwd !== undefined && typeof cwd !== 'string')
    throw new InvalidArgumentError('commands', `${where}.cwd must be a path`);
  if (
    env !== undefined &&
    !(env !== null && typeof env === 'object' && Object.values(env).every((v) => typeof v === 'string'))
  ) {
    throw new InvalidArgumentError('commands', `${where}.env must map names to strings`);
  }
  const spec: CommandSpec = { name: name as string, command };
  if (args !== undefined) spec.args = args;
  if (cwd !== undefined) spec.cwd = cwd;
  if (env !== undefined) spec.env = env as Record<string, string>;
  return spec;
}

function positiveNumber(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new InvalidArgumentError(name, `${name} must be a number > 0`);
  return value;
}
