#!/usr/bin/env node
// The README's two commands on a machine with only Node 20 and npm:
//   npm start  -> install (pnpm 10 through npx), build (tsc, and esbuild for the viewer), `enginegate serve`
//   npm test   -> install, build, run every tap suite, end with `N passed, N failed`
//   npm run lint / typecheck -> install, build, then eslint and prettier / tsc on the tests too
// package.json runs this with `exec`, so that npm's child is this process and not a `sh -c`
// that would not pass npm's SIGTERM on; the server then runs in this process, so that the PID
// npm (or `kill`) signals is the server's.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

/** A tool's entry point inside node_modules (run with this node, so no PATH lookup is needed). */
function bin(...path) {
  return join(root, 'node_modules', ...path);
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
run(process.execPath, [bin('typescript', 'bin', 'tsc'), '-b']);
// The viewer page (GET /) is bundled by esbuild, not tsc.
run(process.execPath, [join(root, 'packages', 'viewer', 'scripts', 'build.mjs'), '--quiet']);

if (command === 'serve') {
  stopWhenOrphaned();
  const { main } = await import(pathToFileURL(join(root, 'packages', 'cli', 'dist', 'main.js')).href);
  const code = await main(['serve', ...rest], {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  });
  // 0: the gateway listens and keeps the process alive until SIGTERM/SIGINT.
  if (code !== 0) process.exit(code);
} else if (command === 'build') {
  // install + build only
} else if (command === 'lint') {
  // Type-aware lint reads the workspace packages' built declarations: built first, above.
  run(process.execPath, [bin('eslint', 'bin', 'eslint.js'), '.', '--max-warnings', '0', ...rest]);
  run(process.execPath, [bin('prettier', 'bin', 'prettier.cjs'), '--check', '.']);
} else if (command === 'typecheck') {
  const tsc = bin('typescript', 'bin', 'tsc');
  for (const project of ['tsconfig.lint.json', 'packages/viewer/src/app']) run(process.execPath, [tsc, '-p', project]);
} else if (command === 'test') {
  await import('./run-tests.mjs').then((m) => m.runTests(root, rest));
} else {
  console.error(`enginegate quickstart: unknown command ${command} (serve, build, test, lint or typecheck)`);
  process.exit(2);
}

/**
 * When npm itself is killed (SIGKILL, a closed terminal), nothing forwards a signal: this
 * process is handed to init. Notice that, and stop the way SIGTERM stops the gateway (streams
 * closed 1001, the port freed) instead of serving on with no one to stop it.
 */
function stopWhenOrphaned() {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    console.error(`enginegate: the process that started me (PID ${parent}) is gone; stopping`);
    process.kill(process.pid, 'SIGTERM');
  }, 1000);
  watch.unref();
}
