// docs/conformance.md must not fall behind the suite: every scenario of the testkit's SCENARIOS
// has a result for each of the four engines, and every row where the engines differ is
// explained. Regenerate the doc with `node scripts/conformance-table.mjs`.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { SCENARIOS } from '@enginegate/testkit';

const ENGINES = ['containerd', 'mock', 'moby', 'podman'].sort();
const OUTCOME = /^(pass|skip|\*\*FAIL\*\*)( \[(\d+)\])?$/;

const doc = await readFile(new URL('../../docs/conformance.md', import.meta.url), 'utf8');
const lines = doc.split('\n');

/** The table conformanceTable() renders: its header names the engines, each row a scenario. */
function parseResultTable(): { engines: string[]; rows: Map<string, string[]> } {
  const headerAt = lines.findIndex((line) => line.startsWith('| scenario |') && !line.includes('| checks |'));
  if (headerAt === -1) return { engines: [], rows: new Map() };
  const cells = (line: string) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
  const engines = cells(lines[headerAt]!).slice(1);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(headerAt + 2)) {
    if (!line.startsWith('|')) break;
    const [scenario, ...outcomes] = cells(line);
    rows.set(scenario!.replace(/`/g, ''), outcomes);
  }
  return { engines, rows };
}

const { engines, rows } = parseResultTable();

t.test('the table has a column for each engine', async (t) => {
  t.same([...engines].sort(), ENGINES, `columns: ${engines.join(', ')}`);
});

t.test('every scenario of SCENARIOS has a result for every engine', async (t) => {
  for (const scenario of SCENARIOS) {
    const outcomes = rows.get(scenario.name);
    if (!outcomes) {
      t.fail(`${scenario.name} is missing from docs/conformance.md`);
      continue;
    }
    for (const [i, engine] of engines.entries()) {
      t.match(outcomes[i] ?? '', OUTCOME, `${scenario.name} on ${engine}: ${outcomes[i]}`);
    }
  }
  t.same(
    [...rows.keys()].filter((name) => !SCENARIOS.some((s) => s.name === name)),
    [],
    'no row for a scenario the suite no longer has',
  );
});

t.test('every skip or failure has its footnote, and every differing row is explained', async (t) => {
  const explained = doc.slice(doc.indexOf('## Rows that differ between engines'));
  t.ok(doc.includes('## Rows that differ between engines'), 'the doc has the section that explains differences');
  for (const [scenario, outcomes] of rows) {
    const results = outcomes.map((cell) => OUTCOME.exec(cell)?.[1]);
    for (const [i, cell] of outcomes.entries()) {
      const footnote = OUTCOME.exec(cell)?.[3];
      if (results[i] === 'pass') continue;
      t.ok(
        footnote && new RegExp(`^${footnote}\\. ${engines[i]} / ${scenario}: .+`, 'm').test(doc),
        `${engines[i]} / ${scenario} (${cell}) has a footnote with its reason`,
      );
      if (new Set(results).size > 1) {
        t.match(
          explained,
          `\`${engines[i]}/${scenario}\`:`,
          `${engines[i]} / ${scenario} differs from the other engines and is explained`,
        );
      }
    }
  }
});
