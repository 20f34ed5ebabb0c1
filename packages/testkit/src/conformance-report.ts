import { appendFileSync, readFileSync } from 'node:fs';
import type { ScenarioOutcome, ScenarioResult } from './conformance-target.js';
import { SCENARIOS } from './scenario-catalogue.js';

/** Set this to a file path and every scenario result is appended to it as one JSON line. */
export const REPORT_ENV = 'ENGINEGATE_CONFORMANCE_REPORT';

export function recordScenarioResult(result: ScenarioResult, path = process.env[REPORT_ENV]): void {
  if (!path) return;
  appendFileSync(path, `${JSON.stringify(result)}\n`);
}

/** Reads a report file written by `recordScenarioResult` (later lines win for the same engine and scenario). */
export function readConformanceReport(path: string): ScenarioResult[] {
  const byKey = new Map<string, ScenarioResult>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const result = JSON.parse(line) as ScenarioResult;
    byKey.set(`${result.engine}\u0000${result.scenario}`, result);
  }
  return [...byKey.values()];
}

const MARK: Record<ScenarioOutcome, string> = { pass: 'pass', fail: '**FAIL**', skip: 'skip' };

/**
 * A markdown table: one row per scenario, one column per engine; skips and failures carry their
 * reason in a footnote list under the table.
 */
export function conformanceTable(results: ScenarioResult[]): string {
  const engines = [...new Set(results.map((result) => result.engine))].sort();
  const known = SCENARIOS.map((scenario) => scenario.name);
  const extra = [...new Set(results.map((result) => result.scenario))].filter((name) => !known.includes(name)).sort();
  const notes: string[] = [];
  const rows = [...known, ...extra].map((scenario) => {
    const cells = engines.map((engine) => {
      const result = results.find((r) => r.engine === engine && r.scenario === scenario);
      if (!result) return '–';
      if (!result.reason) return MARK[result.result];
      notes.push(`${engine} / ${scenario}: ${result.reason}`);
      return `${MARK[result.result]} [${notes.length}]`;
    });
    return `| \`${scenario}\` | ${cells.join(' | ')} |`;
  });
  const header = `| scenario | ${engines.join(' | ')} |\n|---|${engines.map(() => '---').join('|')}|`;
  const footnotes = notes.map((note, index) => `${index + 1}. ${note}`).join('\n');
  return `${header}\n${rows.join('\n')}\n${footnotes ? `\n${footnotes}\n` : ''}`;
}
