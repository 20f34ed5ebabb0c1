#!/usr/bin/env node
// `npm run pack [-- --out DIR]`: packs every published workspace package (the ones not marked
// private) into DIR (default ./packs) as npm tarballs that install anywhere with plain npm.
// pnpm's pack replaces `workspace:*` with the exact version and `workspace:^` with `^version`;
// this script then checks each tarball's package.json for a `workspace:` left over and for the
// files its `main`, `bin` and `exports` name. It packs what is built: run `npm run build` first
// (the npm script does).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM = 'pnpm@10.34.9';
const GROUPS = ['packages', 'plugins', 'examples'];
const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'];

function parseOut(argv) {
  const at = argv.indexOf('--out');
  return resolve(at === -1 ? join(root, 'packs') : argv[at + 1]);
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` in ${cwd} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** pnpm on PATH, else through npx (as scripts/quickstart.mjs installs). */
function pnpmCommand() {
  const onPath = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0;
  return onPath ? ['pnpm', []] : ['npx', ['-y', PNPM]];
}

/** Every workspace package that is published, as [folder, package.json]. */
function publishedPackages() {
  const found = [];
  for (const group of GROUPS) {
    for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(root, group, entry.name);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (!pkg.private) found.push([dir, pkg]);
    }
  }
  return found;
}

/** The paths a package.json promises (main, bin, every exports target), without `./`. */
function promisedFiles(pkg) {
  const targets = [pkg.main, ...Object.values(pkg.bin ?? {})];
  const walk = (value) => {
    if (typeof value === 'string') targets.push(value);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(pkg.exports);
  return targets.filter((t) => typeof t === 'string').map((t) => t.replace(/^\.\//, ''));
}

/** Throws when the tarball keeps a workspace: range or lacks a file its package.json names. */
function checkTarball(file) {
  const manifest = JSON.parse(run('tar', ['-xOzf', file, 'package/package.json'], root));
  for (const field of DEPENDENCY_FIELDS) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) throw new Error(`${file}: ${field}.${name} is still ${range}`);
    }
  }
  const listed = new Set(
    run('tar', ['-tzf', file], root)
      .split('\n')
      .map((line) => line.replace(/^package\//, '')),
  );
  const missing = promisedFiles(manifest).filter((path) => !listed.has(path));
  if (missing.length > 0)
    throw new Error(`${file}: package.json names files it does not contain: ${missing.join(', ')}`);
  return manifest;
}

const out = parseOut(process.argv.slice(2));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const [pnpm, pnpmArgs] = pnpmCommand();
for (const [dir] of publishedPackages()) {
  const printed = run(pnpm, [...pnpmArgs, 'pack', '--pack-destination', out], dir)
    .trim()
    .split('\n');
  const tarball = printed.findLast((line) => line.endsWith('.tgz'));
  if (!tarball) throw new Error(`pnpm pack in ${dir} printed no tarball: ${printed.join(' ')}`);
  const manifest = checkTarball(resolve(dir, tarball));
  console.log(`${manifest.name}@${manifest.version} -> ${resolve(dir, tarball)}`);
}
