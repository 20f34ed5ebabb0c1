// `enginegate plugin new DIR`: copies packages/cli/plugin-template (a plugin that passes the
// conformance suite) into DIR, with a package.json whose enginegate ranges match this install.
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, UsageError } from './cli-errors.js';
import { pluginReadme } from './plugin-readme.js';

/** The plugin the scaffold copies (this file runs from dist/). */
const TEMPLATE_DIR = fileURLToPath(new URL('../plugin-template/', import.meta.url));
const TEMPLATE_FILES = [
  'tsconfig.json',
  'src/index.ts',
  'src/folder-engine.ts',
  'src/file-log.ts',
  'src/conformance.ts',
];
/** The one line of the template that names the plugin. */
const TEMPLATE_NAME_LINE = "export const PLUGIN_NAME = 'folder';";
/** The TypeScript and Node types this repository builds with (a test keeps them equal). */
export const TYPESCRIPT_RANGE = '~5.9.3';
export const TYPES_NODE_RANGE = '^20.19.43';
/**
 * An engine name `--plugin-config NAME.KEY=VALUE` and `ENGINEGATE_<NAME>_<KEY>` can name: the
 * gateway's rule without the dot (which would end NAME in `--plugin-config`).
 */
const PLUGIN_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,213}$/;

export interface ScaffoldRequest {
  /** DIR as the user typed it. */
  dir: string;
  cwd: string;
  name?: string;
}

export interface Scaffold {
  /** The folder written, absolute. */
  dir: string;
  pluginName: string;
  packageName: string;
  /** The files written, relative to `dir`. */
  files: string[];
}

/** The engine name for a folder: `my-plugin`, `plugin-my` and `enginegate-plugin-my` are `my`. */
export function pluginNameFor(folder: string): string {
  return basename(folder)
    .toLowerCase()
    .replace(/^enginegate-plugin-|^plugin-|-plugin$/g, '');
}

/** Writes the plugin; throws a CliError (exit 2) for a folder that is not empty or a bad name. */
export async function writePluginScaffold(request: ScaffoldRequest): Promise<Scaffold> {
  const dir = resolve(request.cwd, request.dir);
  await checkEmpty(dir, request.dir);
  const pluginName = request.name ?? pluginNameFor(dir);
  if (!PLUGIN_NAME.test(pluginName)) {
    const why =
      request.name === undefined
        ? `${JSON.stringify(basename(dir))} makes no plugin name: give --name NAME`
        : `--name ${JSON.stringify(pluginName)} is not a plugin name`;
    throw new UsageError(`${why} (lowercase letters, digits, _ and -, at most 64, starting with a letter or digit)`);
  }
  const folderName = basename(dir).toLowerCase();
  const packageName = PACKAGE_NAME.test(folderName) ? folderName : `enginegate-plugin-${pluginName}`;
  const contents = new Map<string, string>([
    ['package.json', packageJson(packageName, pluginName)],
    ['README.md', pluginReadme(pluginName, packageName, basename(dir))],
    ['.gitignore', 'node_modules/\ndist/\n'],
  ]);
  for (const file of TEMPLATE_FILES) {
    const text = await readFile(join(TEMPLATE_DIR, file), 'utf8');
    contents.set(file, file === 'src/index.ts' ? renamed(text, pluginName) : text);
  }
  for (const [file, text] of contents) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    // `wx`: never write over a file, even one made since the check.
    await writeFile(join(dir, file), text, { flag: 'wx' });
  }
  return { dir, pluginName, packageName, files: [...contents.keys()] };
}

/** DIR as `--plugin` takes it: a bare `my-plugin` would be looked up as a package name. */
export function pluginPathArgument(dir: string): string {
  return isAbsolute(dir) || /^\.\.?(\/|$)/.test(dir) ? dir : `./${dir}`;
}

async function checkEmpty(dir: string, typed: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new CliError(`${typed} is a file: give a new or empty folder`, 2);
    throw new CliError(`cannot read ${typed}: ${(err as Error).message}`, 2);
  }
  if (entries.length > 0) {
    throw new CliError(`${typed} is not empty (${entries.length} entries): give a new or empty folder`, 2);
  }
}

function renamed(index: string, pluginName: string): string {
  if (!index.includes(TEMPLATE_NAME_LINE)) throw new Error(`the plugin template lacks the line ${TEMPLATE_NAME_LINE}`);
  return index.replace(TEMPLATE_NAME_LINE, `export const PLUGIN_NAME = '${pluginName}';`);
}

function packageJson(packageName: string, pluginName: string): string {
  const pluginApi = `^${installedVersion('@enginegate/plugin-api')}`;
  const manifest = {
    name: packageName,
    version: '0.1.0',
    description: `The ${pluginName} engine plugin for enginegate.`,
    type: 'module',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    files: ['dist', 'src'],
    scripts: { build: 'tsc -p .' },
    // The gateway's copy serves the plugin when it is installed beside enginegate; its own copy
    // (the devDependency) builds it and serves it when loaded by path. Errors are recognised by
    // their code across copies.
    peerDependencies: { '@enginegate/plugin-api': pluginApi },
    devDependencies: {
      '@enginegate/plugin-api': pluginApi,
      '@enginegate/testkit': `^${installedVersion('@enginegate/testkit')}`,
      '@types/node': TYPES_NODE_RANGE,
      typescript: TYPESCRIPT_RANGE,
    },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** The version of an installed package, from the package.json above its entry point. */
export function installedVersion(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === name && manifest.version !== undefined) return manifest.version;
    } catch {
      // no package.json here: look further up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = parent;
  }
}
