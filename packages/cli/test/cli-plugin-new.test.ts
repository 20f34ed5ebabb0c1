// `enginegate plugin new DIR`: the real CLI writes a plugin package whose ranges match this
// install, refuses a folder that is not empty (exit 2, nothing written), and what it writes builds
// with its own tsconfig and passes `enginegate conformance --plugin DIR`.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SCENARIOS } from '@enginegate/testkit';
import { cliEnv, runCli } from './helpers/cli-process.js';

t.setTimeout(180_000);

const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
const TEMPLATE = join(REPOSITORY, 'packages', 'cli', 'plugin-template');
const run = promisify(execFile);

interface Manifest {
  name?: string;
  version?: string;
  type?: string;
  exports?: unknown;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

async function readJson(path: string): Promise<Manifest> {
  return JSON.parse(await readFile(path, 'utf8')) as Manifest;
}

async function scratch(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'enginegate-plugin-new-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function pluginNew(cwd: string, ...args: string[]) {
  return runCli(['plugin', 'new', ...args], cliEnv({}), 20_000, cwd);
}

t.test('plugin new my-plugin: a package named my-plugin, plugin my, ranges of this install', async (t) => {
  const cwd = await scratch(t);
  const result = await pluginNew(cwd, 'my-plugin');
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^wrote the plugin my \(package my-plugin\) in my-plugin: /);
  t.match(
    result.stdout,
    /npx enginegate conformance --plugin \.\/my-plugin\n/,
    'the next steps name the folder as a path',
  );
  t.match(result.stdout, /--plugin-config my\.dir=\S+ --engine my\n/);
  const dir = join(cwd, 'my-plugin');
  const manifest = await readJson(join(dir, 'package.json'));
  const version = async (pkg: string) => (await readJson(join(REPOSITORY, 'packages', pkg, 'package.json'))).version!;
  const root = await readJson(join(REPOSITORY, 'package.json'));
  t.equal(manifest.name, 'my-plugin');
  t.equal(manifest.type, 'module');
  t.same(manifest.exports, { '.': { types: './dist/index.d.ts', default: './dist/index.js' } });
  t.same(manifest.peerDependencies, { '@enginegate/plugin-api': `^${await version('plugin-api')}` });
  t.same(manifest.devDependencies, {
    '@enginegate/plugin-api': `^${await version('plugin-api')}`,
    '@enginegate/testkit': `^${await version('testkit')}`,
    '@types/node': root.devDependencies!['@types/node'],
    typescript: root.devDependencies!['typescript'],
  });
  const index = await readFile(join(dir, 'src', 'index.ts'), 'utf8');
  t.match(index, /^export const PLUGIN_NAME = 'my';$/m, 'src/index.ts names the plugin');
  for (const file of ['tsconfig.json', 'src/folder-engine.ts', 'src/file-log.ts', 'src/conformance.ts']) {
    t.equal(
      await readFile(join(dir, file), 'utf8'),
      await readFile(join(TEMPLATE, file), 'utf8'),
      `${file}: the template's`,
    );
  }
});

t.test('--name names the plugin; a folder name that makes none is exit 2', async (t) => {
  const cwd = await scratch(t);
  const named = await pluginNew(cwd, 'Logs.Folder', '--name', 'logs_2');
  t.equal(named.code, 0, named.stderr);
  t.match(await readFile(join(cwd, 'Logs.Folder', 'src', 'index.ts'), 'utf8'), /PLUGIN_NAME = 'logs_2';/);
  t.equal((await readJson(join(cwd, 'Logs.Folder', 'package.json'))).name, 'logs.folder');
  const unnamed = await pluginNew(cwd, 'My.Plugin');
  t.equal(unnamed.code, 2);
  t.match(unnamed.stderr, /^enginegate: "My\.Plugin" makes no plugin name: give --name NAME/);
  const badName = await pluginNew(cwd, 'other', '--name', 'Has Space');
  t.equal(badName.code, 2);
  t.match(badName.stderr, /^enginegate: --name "Has Space" is not a plugin name/);
  t.same((await readdir(cwd)).sort(), ['Logs.Folder'], 'nothing written for a refused name');
});

t.test('a folder that is not empty, or a file: one line, exit 2, nothing written', async (t) => {
  const cwd = await scratch(t);
  await mkdir(join(cwd, 'taken'));
  await writeFile(join(cwd, 'taken', 'notes.txt'), 'mine\n');
  const taken = await pluginNew(cwd, 'taken');
  t.equal(taken.code, 2);
  t.equal(taken.stderr, 'enginegate: taken is not empty (1 entries): give a new or empty folder\n');
  t.same(await readdir(join(cwd, 'taken')), ['notes.txt']);
  t.equal(await readFile(join(cwd, 'taken', 'notes.txt'), 'utf8'), 'mine\n');
  const file = await pluginNew(cwd, 'taken/notes.txt');
  t.equal(file.code, 2);
  t.match(file.stderr, /^enginegate: taken\/notes\.txt is a file/);
  const empty = join(cwd, 'empty');
  await mkdir(empty);
  t.equal((await pluginNew(cwd, 'empty')).code, 0, 'an empty folder is fine');
});

t.test('enginegate --help lists it; plugin --help and a missing folder', async (t) => {
  const help = await runCli(['--help'], cliEnv({}));
  t.match(help.stdout, /^ {2}plugin +write a new engine plugin to start from \(plugin new DIR\)$/m);
  const usage = await runCli(['plugin', '--help'], cliEnv({}));
  t.match(usage.stdout, /^Usage: enginegate plugin new DIR \[--name NAME\]/);
  const missing = await runCli(['plugin', 'new'], cliEnv({}));
  t.equal(missing.code, 2);
  t.match(missing.stderr, /takes one folder/);
});

/** The scaffold's dependencies as links to this workspace's packages (the outside test installs them with npm). */
async function linkDependencies(dir: string): Promise<void> {
  const links: Array<[string, string]> = [
    ['@enginegate/plugin-api', join(REPOSITORY, 'packages', 'plugin-api')],
    ['@enginegate/testkit', join(REPOSITORY, 'packages', 'testkit')],
    ['typescript', await realpath(join(REPOSITORY, 'node_modules', 'typescript'))],
    ['@types/node', await realpath(join(REPOSITORY, 'node_modules', '@types', 'node'))],
  ];
  for (const [name, target] of links) {
    await mkdir(dirname(join(dir, 'node_modules', name)), { recursive: true });
    await symlink(target, join(dir, 'node_modules', name), 'dir');
  }
}

t.test('the scaffold builds with its own tsconfig and passes enginegate conformance', async (t) => {
  const cwd = await scratch(t);
  t.equal((await pluginNew(cwd, 'my-plugin')).code, 0);
  const dir = join(cwd, 'my-plugin');
  await linkDependencies(dir);
  await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]);
  const result = await runCli(['conformance', '--plugin', './my-plugin'], cliEnv({}), 150_000, cwd);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^\| scenario \| my \|\n/);
  const rows = [...result.stdout.matchAll(/^\| `([a-z0-9-]+)` \| (pass|skip \[\d+\]|\*\*FAIL\*\*.*) \|$/gm)];
  t.same(
    rows.map((row) => row[1]),
    SCENARIOS.map((s) => s.name),
    'a row for every scenario',
  );
  t.same(
    rows.filter((row) => row[2]!.includes('FAIL')),
    [],
    'none failed',
  );
});
