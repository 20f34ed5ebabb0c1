// A benchmark's result: printed as a table of milliseconds, lines/s and ratios to named
// baselines, and kept as JSON (in BENCH_RESULTS_DIR, default .bench-dist/results) for
// scripts/bench.mjs, which writes the figures into docs/benchmarks.md and draws the chart.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchResult {
  title: string;
  /** Lines read per row, for lines/s. */
  lines: number;
  /** The machine and its load (machineLine()), before and after. */
  machine: string[];
  /** Name and best milliseconds of each row. */
  rows: Array<[string, number]>;
  /** CPU ms the benchmark's own process (the gateway, where it runs in it) spent per row. */
  cpuMs?: Array<[string, number]>;
  /** The rows the ratios are taken against. */
  baselines: string[];
  /** Rows that measure something other than the gateway (drawn grey); default: the baselines. */
  references?: string[];
  /** When it was measured (ISO 8601), set by recordResult. */
  date?: string;
  /** Extra figures that are not timings (fds, RSS, connections, …), printed as they are. */
  notes?: string[];
}

export const RESULTS_DIR =
  process.env.BENCH_RESULTS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Prints the result's table and writes it where scripts/bench.mjs finds it. */
export function recordResult(name: string, result: BenchResult): void {
  console.log(ratioTable(result));
  mkdirSync(RESULTS_DIR, { recursive: true });
  const dated = { ...result, date: new Date().toISOString() };
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(dated, null, 2)}\n`);
}

/** The table: every row's ms and lines/s, and its ratio to each baseline (higher is faster). */
export function ratioTable(result: BenchResult): string {
  const { baselines } = result;
  const ms = new Map(result.rows);
  const cpu = new Map(result.cpuMs ?? []);
  const width = Math.max(...result.rows.map(([name]) => name.length));
  const out = [result.title, ...result.machine];
  out.push(
    `${''.padEnd(width)}  ${'ms'.padStart(6)}  ${'lines/s'.padStart(8)}  ${baselines.map((b, i) => `×base${i + 1}`.padStart(7)).join('')}${cpu.size ? '  gateway CPU ms' : ''}`,
  );
  for (const [name, rowMs] of result.rows) {
    const rate = result.lines > 0 ? Math.round(result.lines / (rowMs / 1000)) : '';
    const ratios = baselines.map((b) => ((ms.get(b) ?? NaN) / rowMs).toFixed(2).padStart(7)).join('');
    const cpuText = cpu.has(name) ? cpu.get(name)!.toFixed(0).padStart(16) : '';
    out.push(
      `${name.padEnd(width)}  ${rowMs.toFixed(0).padStart(6)}  ${String(rate).padStart(8)}  ${ratios}${cpuText}`,
    );
  }
  baselines.forEach((b, i) => out.push(`base${i + 1} = ${b} (ratio > 1: faster than it)`));
  out.push(...(result.notes ?? []));
  return out.join('\n');
}
