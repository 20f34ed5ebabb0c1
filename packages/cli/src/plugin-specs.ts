import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnginePlugin } from '@enginegate/plugin-api';

/**
 * The engine plugins `serve` builds in (the CLI composes them; the gateway depends on none).
 * A `--plugin` of the same engine name replaces one. moby, containerd and podman come as their
 * `/deferred` entries: their engine's code loads at its first start (a faster `serve`).
 */
export const BUNDLED_PLUGINS = [
  '@enginegate/plugin-mock',
  '@enginegate/plugin-moby/deferred',
  '@enginegate/plugin-containerd/deferred',
  '@enginegate/plugin-podman/deferred',
] as const;

/** The CLI package's folder: package names a `--plugin` gives are looked up here after the working directory. */
export const CLI_INSTALL_DIR = fileURLToPath(new URL('../', import.meta.url));

/**
 * What the gateway's plugin loader should import: paths (files or folders) are made absolute
 * against the working directory; package names pass unchanged, for the gateway to look up from
 * the working directory first, then from this package's install.
 */
export function resolvePluginSpecifier(specifier: string, cwd: string): string {
  if (specifier.startsWith('file:')) return fileURLToPath(specifier);
  if (
    isAbsolute(specifier) ||
    specifier === '.' ||
    specifier === '..' ||
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    /\.[cm]?js$/.test(specifier)
  ) {
    return resolvePath(cwd, specifier);
  }
  return specifier;
}

/** The bundled plugins' default exports, imported from this package's dependencies. */
export async function importBundledPlugins(): Promise<EnginePlugin[]> {
  const modules = await Promise.all(BUNDLED_PLUGINS.map((name) => import(name) as Promise<{ default: EnginePlugin }>));
  return modules.map((module) => module.default);
}
