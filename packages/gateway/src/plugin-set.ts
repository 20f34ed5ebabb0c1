import type { EnginePlugin } from '@enginegate/plugin-api';
import { describePluginSpec, PluginLoadError, type PluginLoader } from './plugin-loader.js';

/** A plugin as it was named (spec), once imported and checked. */
export interface LoadedPlugin {
  spec: string;
  plugin: EnginePlugin;
  /** A built-in of the gateway (or of the program embedding it), not one named by the user. */
  builtin: boolean;
  /** Its place among built-ins then named plugins, so that failures can be told in that order. */
  index: number;
}

export interface RefusedPlugin {
  index: number;
  error: PluginLoadError;
}

export interface PluginSet {
  /** One plugin per engine name, built-ins first, in the order given. */
  chosen: LoadedPlugin[];
  /** Built-ins that a named plugin of the same engine name replaced. */
  replaced: Array<{ builtin: LoadedPlugin; by: LoadedPlugin }>;
  /** Plugins that failed to import or clash by name. */
  errors: RefusedPlugin[];
}

/**
 * Imports the built-in and the named plugins and picks one per engine name: a named plugin
 * replaces a built-in of its name (asking for it by name is asking for it); any other clash (two
 * named, or two built-ins) refuses the later one with a message naming both.
 */
export async function loadPluginSet(
  loader: PluginLoader,
  builtins: ReadonlyArray<string | EnginePlugin>,
  named: ReadonlyArray<string | EnginePlugin>,
): Promise<PluginSet> {
  const set: PluginSet = { chosen: [], replaced: [], errors: [] };
  const entries = [
    ...builtins.map((spec) => ({ spec, builtin: true })),
    ...named.map((spec) => ({ spec, builtin: false })),
  ];
  for (const [index, { spec, builtin }] of entries.entries()) {
    const described = describePluginSpec(spec);
    let loaded: LoadedPlugin;
    try {
      loaded = { spec: described, plugin: await loader.load(spec), builtin, index };
    } catch (err) {
      set.errors.push({ index, error: err as PluginLoadError });
      continue;
    }
    const at = set.chosen.findIndex((other) => other.plugin.name === loaded.plugin.name);
    const other = set.chosen[at];
    if (other === undefined) set.chosen.push(loaded);
    else if (other.plugin === loaded.plugin)
      continue; // the same module named twice
    else if (other.builtin && !loaded.builtin) {
      set.chosen[at] = loaded;
      set.replaced.push({ builtin: other, by: loaded });
    } else {
      set.errors.push({
        index,
        error: new PluginLoadError(
          described,
          `plugin ${described} (name "${loaded.plugin.name}") clashes with ${other.spec}, which is loaded under that name already; ` +
            (other.builtin ? 'name it with --plugin to replace that built-in' : 'load only one of them'),
        ),
      });
    }
  }
  return set;
}
