import type { EnginePlugin, PluginSettingSchema } from '@enginegate/plugin-api';

const DESCRIPTION_INDENT = ' '.repeat(8);
const WIDTH = 92;

/** A plugin as `serve --help` lists it: how it was named, and its settings schema. */
export interface ListedEngine {
  spec: string;
  builtin: boolean;
  plugin: EnginePlugin;
  /** The environment variable of each of its settings. */
  envName: (key: string) => string;
}

/**
 * The engines `serve` would load (the built-ins, then each `--plugin`, one replacing a built-in
 * of its name) and the named plugins that failed to import, for `serve --help`.
 */
export async function listEngines(
  builtins: EnginePlugin[],
  named: string[],
  cwd: string,
  searchFrom: string[],
): Promise<{ engines: ListedEngine[]; problems: string[] }> {
  // Imported here, not at the top: every other command starts without loading the gateway.
  const { PluginLoader, loadPluginSet, settingEnvName } = await import('@enginegate/gateway');
  const set = await loadPluginSet(new PluginLoader(cwd, searchFrom), builtins, named);
  return {
    engines: [...set.chosen]
      .sort((a, b) => a.plugin.name.localeCompare(b.plugin.name))
      .map((chosen) => ({ ...chosen, envName: (key: string) => settingEnvName(chosen.plugin.name, key) })),
    problems: set.errors.map(({ error }) => error.message),
  };
}

/** Each engine and each of its settings, with type, default, environment variable and description, from its schema. */
export function describeEngineSettings(engines: ListedEngine[], problems: string[] = []): string {
  const lines = [
    'Engines and their settings (--plugin-config NAME.KEY=VALUE, the environment variable shown,',
    'or --config FILE; in that precedence):',
  ];
  for (const { spec, builtin, plugin, envName } of engines) {
    const properties = Object.entries(plugin.settings?.properties ?? {});
    const origin = builtin ? 'built-in' : spec;
    if (plugin.settings === undefined) {
      lines.push(
        `  ${plugin.name} (${origin}): declares no settings schema; its --plugin-config is passed on as given`,
      );
      continue;
    }
    lines.push(`  ${plugin.name} (${origin})${properties.length === 0 ? ': no settings' : ''}`);
    const required = new Set(plugin.settings.required ?? []);
    for (const [key, schema] of properties) {
      const facts = [typeName(schema), ...(required.has(key) ? ['required'] : []), ...defaultText(schema)];
      lines.push(`    ${key}: ${facts.join(', ')} (env ${envName(key)})`);
      if (typeof schema.description === 'string') lines.push(...wrap(schema.description, DESCRIPTION_INDENT));
    }
  }
  for (const problem of problems) lines.push(`  not loaded: ${problem}`);
  return lines.join('\n');
}

function typeName(schema: PluginSettingSchema): string {
  if (Array.isArray(schema['enum'])) return `one of ${schema['enum'].map((v) => JSON.stringify(v)).join(', ')}`;
  const items = schema['items'] as PluginSettingSchema | undefined;
  if (schema.type === 'array' && typeof items?.type === 'string') return `list of ${items.type}`;
  return schema.type ?? 'any';
}

function defaultText(schema: PluginSettingSchema): string[] {
  if (schema.default === undefined) return [];
  const value = Array.isArray(schema.default)
    ? schema.default.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ')
    : typeof schema.default === 'string'
      ? schema.default
      : JSON.stringify(schema.default);
  return [`default ${value === '' ? '""' : value}`];
}

/** Words filled into lines of at most WIDTH columns, each starting with `indent`. */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line.length > indent.length && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = indent;
    }
    line += line.length > indent.length ? ` ${word}` : word;
  }
  if (line.length > indent.length) lines.push(line);
  return lines;
}
