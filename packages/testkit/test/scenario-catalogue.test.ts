import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SCENARIOS, conformanceTable, readConformanceReport, recordScenarioResult } from '@enginegate/testkit';

const PLUGINS_DOC = new URL('../../../docs/plugins.md', import.meta.url);

t.test('docs/plugins.md lists every scenario, in order, with what it checks', async (t) => {
  const doc = readFileSync(PLUGINS_DOC, 'utf8');
  const start = doc.indexOf('| scenario | checks |');
  t.ok(start >= 0, 'the doc has the scenario table');
  const table = doc.slice(start, doc.indexOf('\n\n', start));
  const rows = [...table.matchAll(/^\| `([a-z0-9-]+)` \| (.+) \|$/gm)].map(([, name, checks]) => ({
    name,
    checks: checks!.replace(/\\\|/g, '|'),
  }));
  t.same(
    rows,
    SCENARIOS.map(({ name, checks }) => ({ name, checks })),
  );
});

t.test('scenario names are unique and stable in form', async (t) => {
  const names = SCENARIOS.map((s) => s.name);
  t.equal(new Set(names).size, names.length, 'unique');
  t.ok(
    names.every((name) => /^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)),
    'kebab-case',
  );
  t.equal(names.at(-1), 'stopped-503', 'stopped-503 restarts the engine, so it runs last');
});

t.test('the JSON-lines report round-trips and renders as a table', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'enginegate-report-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'report.jsonl');
  recordScenarioResult({ engine: 'mock', scenario: 'tail', result: 'fail', reason: 'first run' }, file);
  recordScenarioResult({ engine: 'mock', scenario: 'tail', result: 'pass' }, file);
  recordScenarioResult({ engine: 'files', scenario: 'tail', result: 'skip', reason: 'no times' }, file);
  recordScenarioResult({ engine: 'mock', scenario: 'tail', result: 'pass' }, undefined); // no file: nothing written
  const results = readConformanceReport(file);
  t.same(
    results,
    [
      { engine: 'mock', scenario: 'tail', result: 'pass' },
      { engine: 'files', scenario: 'tail', result: 'skip', reason: 'no times' },
    ],
    'the later result for an engine and scenario wins',
  );
  const table = conformanceTable(results);
  t.match(table, /^\| scenario \| files \| mock \|$/m, 'a column per engine, sorted');
  t.match(table, /^\| `tail` \| skip \[1\] \| pass \|$/m, 'a row per scenario');
  t.match(table, /^\| `since-until` \| – \| – \|$/m, 'a scenario not run shows a dash');
  t.match(table, /^1\. files \/ tail: no times$/m, 'reasons become footnotes');
});
