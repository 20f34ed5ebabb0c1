import { Ajv, type ErrorObject } from 'ajv';
import type { EnginePlugin } from '@enginegate/plugin-api';
import { PluginLoadError } from './plugin-loader.js';

/** Where a plugin's settings come from besides the program's own `pluginConfig` (which wins). */
export interface PluginSettingSources {
  /** `ENGINEGATE_<NAME>_<KEY>` variables, read for the keys a plugin's schema declares. */
  env?: NodeJS.ProcessEnv;
  /** The lowest layer, per plugin name (e.g. `--config FILE`'s `plugins`). */
  file?: Record<string, Record<string, unknown>>;
}

/** `ENGINEGATE_<NAME>_<KEY>`: the plugin's name and the key upper-cased, camelCase and `-`/`.` as `_`. */
export function settingEnvName(plugin: string, key: string): string {
  const word = (text: string) =>
    text
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/[^A-Za-z0-9]+/g, '_')
      .toUpperCase();
  return `ENGINEGATE_${word(plugin)}_${word(key)}`;
}

// Values from the command line and the environment are strings: coerce them to the schema's types
// ('array': one value given for a list setting is a list of one, e.g. --log-root). Made when
// first needed: a new Ajv compiles its meta-schemas, part of every start-up otherwise.
let settingsAjv: Ajv | undefined;
const ajv = (): Ajv =>
  (settingsAjv ??= new Ajv({ coerceTypes: 'array', useDefaults: true, allErrors: true, strict: false }));

/**
 * A plugin's settings: its file layer, then its environment variables, then the given settings
 * (highest), validated against the plugin's `settings` schema when it declares one (defaults
 * filled, strings coerced). A mistake is a PluginLoadError naming the plugin and the key.
 */
export function resolvePluginSettings(
  spec: string,
  plugin: EnginePlugin,
  given: Record<string, unknown> | undefined,
  sources: PluginSettingSources = {},
): Readonly<Record<string, unknown>> {
  const schema = plugin.settings;
  const fromEnv: Record<string, unknown> = {};
  for (const key of Object.keys(schema?.properties ?? {})) {
    const value = sources.env?.[settingEnvName(plugin.name, key)];
    if (value !== undefined) fromEnv[key] = value;
  }
  const settings = { ...(sources.file?.[plugin.name] ?? {}), ...fromEnv, ...(given ?? {}) };
  if (schema === undefined) return Object.freeze(settings);
  // Nothing given: the defaults are the settings. Compiling a schema costs ~100 ms of a start-up,
  // so only what is given (or required) is validated.
  if (Object.keys(settings).length === 0 && (schema.required ?? []).length === 0) {
    return Object.freeze(defaultsOf(schema));
  }
  const validate = ajv().compile(schema);
  if (!validate(settings)) {
    const problems = (validate.errors ?? []).map((error) => describe(error)).join('; ');
    throw new PluginLoadError(spec, `plugin ${spec} (name "${plugin.name}") has wrong settings: ${problems}`);
  }
  return Object.freeze(settings);
}

/** What ajv's `useDefaults` fills into an empty object: each property's `default`. */
function defaultsOf(schema: NonNullable<EnginePlugin['settings']>): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (property !== null && typeof property === 'object' && 'default' in property) {
      settings[key] = structuredClone(property.default);
    }
  }
  return settings;
}

function describe(error: ErrorObject): string {
  const missing = (error.params as { missingProperty?: string }).missingProperty;
  const extra = (error.params as { additionalProperty?: string }).additionalProperty;
  const key = missing ?? extra ?? error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (extra !== undefined) return `setting ${key} is not one this plugin has`;
  return `setting ${key || '(all)'} ${error.message ?? 'is wrong'}`;
}
