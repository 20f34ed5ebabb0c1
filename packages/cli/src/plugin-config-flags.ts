import { readFileSync } from 'node:fs';
import { UsageError } from './cli-errors.js';

export type PluginConfig = Record<string, Record<string, unknown>>;

/** `--plugin-config NAME.KEY=VALUE` flags as settings per plugin (values stay strings: the schema types them). */
export function parsePluginConfigFlags(flags: string[]): PluginConfig {
  const config: PluginConfig = {};
  for (const flag of flags) {
    const match = /^([a-z0-9][a-z0-9_-]*)\.([A-Za-z0-9_.-]+)=(.*)$/s.exec(flag);
    if (!match) throw new UsageError(`--plugin-config ${flag}: write NAME.KEY=VALUE, e.g. my.dir=/tmp/x`);
    const [, name, key, value] = match;
    (config[name!] ??= {})[key!] = value;
  }
  return config;
}

export function mergePluginConfig(...layers: PluginConfig[]): PluginConfig {
  const merged: PluginConfig = {};
  for (const layer of layers) {
    for (const [name, settings] of Object.entries(layer)) merged[name] = { ...merged[name], ...settings };
  }
  return merged;
}

/** `--config FILE`: `{"plugins": {NAME: {KEY: VALUE}}}`. */
export function readConfigFile(path: string): PluginConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--config ${path}: ${(err as Error).message}`);
  }
  const plugins = (parsed as { plugins?: unknown } | null)?.plugins ?? {};
  if (plugins === null || typeof plugins !== 'object' || Array.isArray(plugins)) {
    throw new UsageError(`--config ${path}: "plugins" must map plugin names to their settings`);
  }
  return plugins as PluginConfig;
}
