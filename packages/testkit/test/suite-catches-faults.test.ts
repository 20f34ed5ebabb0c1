import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { REPORT_ENV, conformanceTable, readConformanceReport } from '@enginegate/testkit';

// The children run a dozen short suites; one of them waits out several 2 s release deadlines.
t.setTimeout(180_000);

// A conformance suite is only worth something if it fails a plugin that breaks the contract.
// Each fault below is built into the mock engine (fixtures/faulty-engines.mjs, run as a child
// process because its failures are the point); the scenario that covers it must fail, and the
// same wrapper without a fault must pass it.
const FAULT_CAUGHT_BY: Record<string, string> = {
  'ignores-tail': 'tail',
  'ignores-until': 'since-until',
  'ignores-after': 'cursor-resume',
  'swaps-streams': 'stream-separation',
  'mangles-bytes': 'non-utf8-bytes',
  'drops-exit': 'exit-record',
  'cuts-long-lines': 'whole-100k-line',
  'holds-back': 'live-delivery',
  'ignores-abort': 'abort-releases',
  'plain-errors': 'not-found-404',
};

/**
 * The runs wait far more than they compute (an until in the future, 2 s release deadlines), so
 * they go to three children at once instead of one after another: the three slow runs each
 * head a child, and the short ones are dealt out among them.
 */
const SLOW_RUNS = ['none', 'ignores-until', 'ignores-abort'];

function childGroups(runs: string[]): string[][] {
  const groups = SLOW_RUNS.map((run) => [run]);
  runs.filter((run) => !SLOW_RUNS.includes(run)).forEach((run, i) => groups[i % groups.length]!.push(run));
  return groups;
}

/** One child running some of the runs; it resolves with the child's exit code and output. */
async function runChild(runs: Record<string, string[]>, only: string[], reportFile: string) {
  const fixture = fileURLToPath(new URL('./fixtures/faulty-engines.mjs', import.meta.url));
  const child = spawn(process.execPath, [fixture, ...only], {
    env: { ...process.env, [REPORT_ENV]: reportFile, FAULTY_RUNS: JSON.stringify(runs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000); // this child, by its PID
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

t.test('every fault fails the scenario that covers it; the unfaulted wrapper passes them all', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'enginegate-faults-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const runs: Record<string, string[]> = {
    none: [...new Set(Object.values(FAULT_CAUGHT_BY))],
    // A daemon outage through engineHandle: the gateway answers 503, then serves again.
    outage: ['stopped-503'],
  };
  for (const [fault, scenario] of Object.entries(FAULT_CAUGHT_BY)) runs[fault] = [scenario];

  const groups = childGroups(Object.keys(runs));
  t.same(groups.flat().sort(), Object.keys(runs).sort(), 'every run goes to one child');
  const children = await Promise.all(groups.map((only, i) => runChild(runs, only, join(dir, `report-${i}.jsonl`))));
  t.ok(
    children.every((c) => c.code !== 0),
    'every child has faulty runs, which fail, as they must',
  );
  const output = children.map((c) => c.output).join('\n');
  const reportFile = join(dir, 'report.jsonl');
  writeFileSync(reportFile, groups.map((_, i) => readFileSync(join(dir, `report-${i}.jsonl`), 'utf8')).join(''));

  const results = readConformanceReport(reportFile);
  const outcome = (engine: string, scenario: string) =>
    results.find((r) => r.engine === engine && r.scenario === scenario);
  for (const scenario of runs['none']!) {
    t.equal(outcome('faulty-none', scenario)?.result, 'pass', `without a fault, ${scenario} passes`);
  }
  t.equal(
    outcome('faulty-outage', 'stopped-503')?.result,
    'pass',
    'an engine outage through engineHandle is a 503, then served again',
  );
  for (const [fault, scenario] of Object.entries(FAULT_CAUGHT_BY)) {
    const result = outcome(`faulty-${fault}`, scenario);
    t.equal(result?.result, 'fail', `${fault} fails ${scenario}${result?.reason ? ` (${result.reason})` : ''}`);
  }
  t.match(
    conformanceTable(results),
    /\| `tail` \| .*\*\*FAIL\*\*/,
    'the report renders as a markdown table with the failures marked',
  );
  if (!t.passing()) t.comment(output.slice(-4000));
});
