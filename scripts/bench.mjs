#!/usr/bin/env node
// Builds the workspace and the benchmarks, then runs each benchmark in test/bench/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const only = process.argv[2];
for (const args of [['-b'], ['-p', 'test/bench']]) {
  const r = spawnSync(process.execPath, [tsc, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const dist = join(root, '.bench-dist', 'bench');
// Benchmarks are the throughput-*/memory-*/fanout-*/churn-*/start-* entry points; the other modules are their shared parts.
for (const file of readdirSync(dist)
  .filter((f) => /^(throughput|memory|fanout|churn|start)-.*\.js$/.test(f))
  .sort()) {
  if (only && !file.includes(only)) continue;
  console.log(`\n## ${file.replace(/\.js$/, '')}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dist, file)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// The figures into docs/benchmarks.md (between each result's markers) and the charts.
const report = spawnSync(process.execPath, [join(dist, 'bench-report.js')], { cwd: root, stdio: 'inherit' });
process.exit(report.status ?? 1);
