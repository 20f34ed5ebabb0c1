#!/usr/bin/env node
// The README's two commands on a machine with only Node 20 and npm:
//   npm start  -> install (pnpm 10 through npx), build, `enginegate serve`
//   npm test   -> install, build, run every tap suite, end with `N passed, N failed`
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM = 'pnpm@10.34.9';
const [command = 'serve', ...rest] = process.argv.slice(2);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`enginegate: \`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

function pnpm(args) {
  const onPath = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0;
  if (onPath) run('pnpm', args);
  else run('npx', ['-y', PNPM, ...args]);
}

function installed() {
  const marker = join(root, 'node_modules', '.modules.yaml');
  if (!existsSync(marker)) return false;
  return statSync(marker).mtimeMs >= statSync(join(root, 'pnpm-lock.yaml')).mtimeMs;
}

if (!installed()) {
  console.error('enginegate: installing dependencies (pnpm 10)...');
  pnpm(['install', '--frozen-lockfile']);
}
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b']);

if (command === 'serve') {
  const child = spawn(process.execPath, [join(root, 'packages', 'cli', 'dist', 'bin.js'), 'serve', ...rest], {
    cwd: root,
    stdio: 'inherit',
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else if (command === 'build') {
  // install + build only, for CI's lint and typecheck steps
} else if (command === 'test') {
  await import('./run-tests.mjs').then((m) => m.runTests(root, rest));
} else {
  console.error(`enginegate quickstart: unknown command ${command} (serve, build or test)`);
  process.exit(2);
}
