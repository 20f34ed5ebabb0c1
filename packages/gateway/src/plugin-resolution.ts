import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Conditions of a package's `exports` that an ESM import by the gateway matches, in order. */
const IMPORT_CONDITIONS = ['import', 'node', 'default'];

/** Where a plugin was found, or every place that was looked at. */
export type PluginLocation = { url: string } | { lookedIn: string[] };

/** True for `./x`, `../x`, `/abs`, `file:` URLs and bare `x.js`/`x.mjs`/`x.cjs` names. */
export function isPathSpec(spec: string): boolean {
  return (
    spec.startsWith('./') ||
    spec.startsWith('../') ||
    spec === '.' ||
    spec === '..' ||
    isAbsolute(spec) ||
    spec.startsWith('file:') ||
    /\.(c|m)?js$/.test(spec)
  );
}

/**
 * Finds a plugin: a file, a folder (its package.json `exports`, then `main`, then index.js), or a
 * package name looked up in the node_modules folders above each of `searchFrom` in turn (the
 * working directory first, then the gateway's own install). Paths are relative to `cwd`.
 */
export function locatePlugin(spec: string, cwd: string, searchFrom: readonly string[]): PluginLocation {
  if (isPathSpec(spec)) {
    const path = spec.startsWith('file:') ? fileURLToPath(spec) : resolvePath(cwd, spec);
    if (!existsSync(path)) return { lookedIn: [path] };
    return { url: pathToFileURL(statSync(path).isDirectory() ? folderEntry(path) : path).href };
  }
  const lookedIn: string[] = [];
  for (const from of searchFrom) {
    for (const modules of createRequire(join(from, 'noop.js')).resolve.paths(spec) ?? []) {
      if (lookedIn.includes(modules)) continue;
      lookedIn.push(modules);
      const folder = join(modules, spec);
      if (existsSync(join(folder, 'package.json'))) return { url: pathToFileURL(folderEntry(folder)).href };
    }
  }
  return { lookedIn };
}

/** The module a package folder's package.json names for an import of the folder itself. */
export function folderEntry(folder: string): string {
  const manifestPath = join(folder, 'package.json');
  if (!existsSync(manifestPath)) return join(folder, 'index.js');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { exports?: unknown; main?: unknown };
  const fromExports = exportsTarget(manifest.exports);
  if (fromExports !== undefined) return resolvePath(folder, fromExports);
  if (typeof manifest.main === 'string') return resolvePath(folder, manifest.main);
  return join(folder, 'index.js');
}

/** The `.` target of an `exports` field for an ESM import (string, subpath map or conditions). */
function exportsTarget(exportsField: unknown): string | undefined {
  if (typeof exportsField === 'string') return exportsField;
  if (exportsField === null || typeof exportsField !== 'object' || Array.isArray(exportsField)) return undefined;
  const entries = exportsField as Record<string, unknown>;
  if (Object.keys(entries).some((key) => key.startsWith('.'))) return exportsTarget(entries['.']);
  for (const condition of IMPORT_CONDITIONS) {
    const target = exportsTarget(entries[condition]);
    if (target !== undefined) return target;
  }
  return undefined;
}

/** The gateway package's own folder: where its dependencies are installed. */
export const GATEWAY_INSTALL_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
