// Runs every tap suite and ends with the line CI reads: `N passed, N failed, N skipped`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const TEST_GLOBS = [
  'packages/*/test/**/*.test.ts',
  'plugins/*/test/**/*.test.ts',
  'test/**/*.test.ts',
  'examples/*/test/**/*.test.ts',
];

export async function runTests(root, extraArgs) {
  const args = [join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs')];
  args.push(...(extraArgs.length > 0 ? extraArgs : TEST_GLOBS));
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.test.json') },
  });
  let tail = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    tail = (tail + chunk.toString()).slice(-4096);
  });
  const code = await new Promise((resolve) => child.on('close', (c, s) => resolve(c ?? (s ? 1 : 0))));
  // tap ends with `# { total: N, pass: N, fail: N, skip: N, ... }`
  const summary = /# \{ ([^}]*) \}/.exec(tail.slice(tail.lastIndexOf('# {')));
  const count = (key) => Number(new RegExp(`\\b${key}: (\\d+)`).exec(summary?.[1] ?? '')?.[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + (code !== 0 && count('fail') === 0 ? 1 : 0);
  const skipped = count('skip') + count('todo');
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code);
}
