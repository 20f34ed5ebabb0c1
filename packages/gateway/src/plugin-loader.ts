import { errorText, PLUGIN_API_VERSION, type EnginePlugin } from '@enginegate/plugin-api';
import { GATEWAY_INSTALL_DIR, locatePlugin } from './plugin-resolution.js';

/** A plugin could not be loaded; the message names the plugin (its spec, and its name once known). */
export class PluginLoadError extends Error {
  constructor(
    readonly spec: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PluginLoadError';
  }
}

/** How a plugin was named: a package name, a file path, or an object handed in directly. */
export function describePluginSpec(spec: string | EnginePlugin): string {
  if (typeof spec === 'string') return spec;
  const name = (spec as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? `(object) ${name}` : '(object)';
}

/**
 * Imports plugins by package name (looked up from the working directory first, then from each
 * of `searchFrom`: by default the gateway's own install), by folder (its package.json `exports`
 * or `main`) or by file (paths relative to the working directory), and checks the default
 * export's shape and apiVersion.
 */
export class PluginLoader {
  private readonly searchFrom: string[];

  constructor(
    private readonly cwd: string = process.cwd(),
    searchFrom: readonly string[] = [GATEWAY_INSTALL_DIR],
  ) {
    this.searchFrom = [cwd, ...searchFrom];
  }

  async load(spec: string | EnginePlugin): Promise<EnginePlugin> {
    const described = describePluginSpec(spec);
    const candidate = typeof spec === 'string' ? await this.importDefault(spec) : spec;
    return checkPluginShape(described, candidate);
  }

  /** The plugin module's namespace (its default export is the plugin; others, e.g. `conformance`, may follow). */
  async importModule(spec: string): Promise<Record<string, unknown>> {
    let location: ReturnType<typeof locatePlugin>;
    try {
      location = locatePlugin(spec, this.cwd, this.searchFrom);
    } catch (err) {
      throw new PluginLoadError(spec, `plugin ${spec} was not found: ${errorText(err)}`, { cause: err });
    }
    if (!('url' in location)) {
      throw new PluginLoadError(spec, `plugin ${spec} was not found; looked in ${location.lookedIn.join(', ')}`);
    }
    try {
      return (await import(location.url)) as Record<string, unknown>;
    } catch (err) {
      throw new PluginLoadError(spec, `plugin ${spec} failed to import: ${errorText(err)}`, { cause: err });
    }
  }

  private async importDefault(spec: string): Promise<unknown> {
    return (await this.importModule(spec))['default'];
  }
}

/** Checks `{ name, apiVersion: 1, register }`; every complaint names the plugin. */
export function checkPluginShape(spec: string, candidate: unknown): EnginePlugin {
  if (candidate === null || typeof candidate !== 'object') {
    throw new PluginLoadError(
      spec,
      `plugin ${spec} has no default export object (got ${candidate === null ? 'null' : typeof candidate})`,
    );
  }
  const { name, apiVersion, register } = candidate as Record<string, unknown>;
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) {
    throw new PluginLoadError(
      spec,
      `plugin ${spec}: "name" must be a lowercase name ([a-z0-9][a-z0-9_.-]*), got ${JSON.stringify(name)}`,
    );
  }
  if (apiVersion !== PLUGIN_API_VERSION) {
    throw new PluginLoadError(
      spec,
      `plugin ${spec} (name "${name}") is written for plugin API version ${JSON.stringify(apiVersion)}; this gateway supports ${PLUGIN_API_VERSION}`,
    );
  }
  if (typeof register !== 'function') {
    throw new PluginLoadError(spec, `plugin ${spec} (name "${name}") has no register function`);
  }
  return candidate as EnginePlugin;
}
