// The plugin `enginegate plugin new` writes (packages/cli/plugin-template), run through the whole
// conformance suite in-process: every scenario passes but those needing what a folder of files
// cannot do (stderr, times, exits, a terminal), and each of those is skipped with its reason.
import t from 'tap';
import { SCENARIOS, runConformanceSuite, type CapabilityName } from '@enginegate/testkit';
import plugin, { conformance } from '../plugin-template/src/index.js';

t.setTimeout(180_000);

const results = await runConformanceSuite(t, { ...conformance, name: plugin.name, plugin });

t.test('the scenarios a folder of files can run pass; the others are skipped with the reasons given', async (t) => {
  const lacking = Object.entries(conformance.capabilities ?? {})
    .filter(([, can]) => can === false)
    .map(([capability]) => capability as CapabilityName);
  // No exit, no exit code (the testkit's rule).
  if (lacking.includes('exits')) lacking.push('exitCode');
  const unrunnable = SCENARIOS.filter((s) => s.needs.some((need) => lacking.includes(need))).map((s) => s.name);
  t.same(
    results.map((r) => r.scenario),
    SCENARIOS.map((s) => s.name),
    'every scenario ran',
  );
  t.same(
    results.filter((r) => r.result === 'fail'),
    [],
    'none failed',
  );
  t.same(
    results.filter((r) => r.result === 'skip').map((r) => r.scenario),
    unrunnable,
    'exactly those that need a missing capability are skipped',
  );
  const notes = Object.values(conformance.capabilityNotes ?? {});
  for (const skipped of results.filter((r) => r.result === 'skip')) {
    t.ok(notes.includes(skipped.reason ?? ''), `${skipped.scenario}: skipped with a reason the plugin gave`);
  }
});
