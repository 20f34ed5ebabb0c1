// Writes the benchmarks' latest results into docs/benchmarks.md — each between its markers
// `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, as the table the run printed, with the
// command, the date and the machine's load — and draws docs/benchmarks-NAME.svg for the
// throughput results. Run by scripts/bench.mjs after the benchmarks.
//
//   node .bench-dist/bench/bench-report.js
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, ratioTable, type BenchResult } from './bench-results.js';
import { throughputChart } from './throughput-chart.js';

const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs');
const PAGE = join(DOCS, 'benchmarks.md');

function figures(name: string, result: BenchResult, chart: boolean): string {
  const lines = [
    `Measured ${result.date ?? ''} with \`npm run bench -- ${name}\` (the figures below are written by it).`,
    '',
    '```text',
    ratioTable(result),
    '```',
  ];
  if (chart) lines.push('', `![${result.title}](benchmarks-${name}.svg)`);
  return lines.join('\n');
}

function main(): void {
  if (!existsSync(RESULTS_DIR)) return;
  let page = readFileSync(PAGE, 'utf8');
  for (const file of readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json'))) {
    const name = file.replace(/\.json$/, '');
    const result = JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8')) as BenchResult;
    const start = `<!-- bench:${name} -->`;
    const end = `<!-- /bench:${name} -->`;
    const at = page.indexOf(start);
    const until = page.indexOf(end);
    if (at === -1 || until < at) {
      console.log(`docs/benchmarks.md has no ${start} … ${end}: ${name} not written`);
      continue;
    }
    const chart = result.lines > 0 && result.baselines.length > 0;
    if (chart) writeFileSync(join(DOCS, `benchmarks-${name}.svg`), throughputChart(result));
    page = `${page.slice(0, at + start.length)}\n${figures(name, result, chart)}\n${page.slice(until)}`;
    console.log(`docs/benchmarks.md: ${name} written${chart ? ` (and docs/benchmarks-${name}.svg)` : ''}`);
  }
  writeFileSync(PAGE, page);
}

main();
