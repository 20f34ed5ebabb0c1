// `enginegate conformance --plugin PATH`: the real CLI runs the testkit on a plugin module's
// default export and `conformance` export, prints the per-scenario table (docs/conformance.md's
// form) and exits 1 when a scenario fails, 2 when the plugin cannot be run.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { SCENARIOS } from '@enginegate/testkit';
import { CliProcess, cliEnv } from './helpers/cli-process.js';

t.setTimeout(240_000);

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

async function conformance(args: string[], env: Record<string, string> = {}) {
  const cli = new CliProcess(['conformance', ...args], cliEnv(env));
  return cli.exited;
}

// Scenarios asked for with --only: the whole suite through the CLI (a row for every scenario,
// which is what a run without --only gives) is cli-plugin-new's test of the scaffold, and
// against the mock testkit's mock-conformance; running it here too cost ~20 s of every unit run.
const ASKED = SCENARIOS.slice(0, 4).map((s) => s.name);

t.test('the scenarios asked for pass: a row for every scenario, the count, exit 0', async (t) => {
  const only = ASKED.flatMap((name) => ['--only', name]);
  const result = await conformance(['--plugin', `${FIXTURES}conformance-plugin.mjs`, ...only]);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^\| scenario \| fixture \|\n\|---\|---\|\n/);
  const rows = [...result.stdout.matchAll(/^\| `([a-z0-9-]+)` \| (.+) \|$/gm)];
  t.same(
    rows.map((row) => [row[1], row[2]]),
    SCENARIOS.map(({ name }) => [name, ASKED.includes(name) ? 'pass' : '–']),
    'a row for every scenario: pass for those asked for, – for the others',
  );
  t.match(result.stdout, new RegExp(`\\n${ASKED.length} passed, 0 failed, 0 skipped\\n$`));
});

t.test('a failing scenario: FAIL in the table with its first failure, exit 1; --engine names the column', async (t) => {
  const result = await conformance(
    [
      '--plugin',
      `${FIXTURES}conformance-plugin.mjs`,
      '--only',
      'tail',
      '--only',
      'bad-ref-400',
      '--engine',
      'reversed',
    ],
    { ENGINEGATE_FIXTURE_REVERSED: '1' },
  );
  t.equal(result.code, 1);
  t.match(result.stdout, /^\| scenario \| reversed \|/);
  t.match(result.stdout, /^\| `tail` \| \*\*FAIL\*\* \[1\] \|$/m);
  t.match(result.stdout, /^\| `bad-ref-400` \| pass \|$/m);
  t.match(result.stdout, /^1\. reversed \/ tail: .+$/m);
  t.match(result.stdout, /\n1 passed, 1 failed, 0 skipped\n$/);
});

t.test('a plugin without a conformance export: one line saying what to export, exit 2', async (t) => {
  const result = await conformance(['--plugin', `${FIXTURES}no-conformance-plugin.mjs`]);
  t.equal(result.code, 2);
  t.match(result.stderr, /^enginegate: plugin .*no-conformance-plugin\.mjs exports no `conformance`/);
  t.equal(result.stderr.split('\n').length, 2, 'one line');
});

t.test('no --plugin is a usage error', async (t) => {
  const result = await conformance([]);
  t.equal(result.code, 2);
  t.match(result.stderr, /give --plugin/);
});
