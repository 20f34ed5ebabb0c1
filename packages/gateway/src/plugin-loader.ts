import { createRequire } from 'node:module';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorText, PLUGIN_API_VERSION, type EnginePlugin } from '@enginegate/plugin-api';

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

function isFilePath(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || spec.startsWith('file:') || /\.(c|m)?js$/.test(spec);
}

/**
 * Imports plugins by package name (resolved from the working directory first, then from the
 * gateway's own dependencies) or by file path (relative to the working directory), and checks
 * the default export's shape and apiVersion.
 */
export class PluginLoader {
  constructor(private readonly cwd: string = process.cwd()) {}

  async load(spec: string | EnginePlugin): Promise<EnginePlugin> {
    const described = describePluginSpec(spec);
    const candidate = typeof spec === 'string' ? await this.importDefault(spec) : spec;
    return checkPluginShape(described, candidate);
  }

  private async importDefault(spec: string): Promise<unknown> {
    let url: string;
    try {
      url = this.resolveSpec(spec);
    } catch (err) {
      throw new PluginLoadError(spec, `plugin ${spec} was not found: ${errorText(err)}`, { cause: err });
    }
    let module: { default?: unknown };
    try {
      module = (await import(url)) as { default?: unknown };
    } catch (err) {
      throw new PluginLoadError(spec, `plugin ${spec} failed to import: ${errorText(err)}`, { cause: err });
    }
    return module.default;
  }

  /** An importable URL or specifier for the plugin. */
  private resolveSpec(spec: string): string {
    if (spec.startsWith('file:')) return spec;
    if (isFilePath(spec)) return pathToFileURL(resolvePath(this.cwd, spec)).href;
    try {
      // The user's project first, so `--plugin some-plugin` finds what they installed.
      return pathToFileURL(createRequire(join(this.cwd, 'noop.js')).resolve(spec)).href;
    } catch {
      // Then the gateway's own dependencies (the bundled engine plugins).
      return import.meta.resolve(spec);
    }
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
