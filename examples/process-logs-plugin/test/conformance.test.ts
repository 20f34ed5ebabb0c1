import t from 'tap';
import { SCENARIOS, runConformanceSuite } from '@enginegate/testkit';
import processLogsPlugin, { type ProcessLogsEngine } from 'enginegate-plugin-process-logs';
import { createPrintLinesContainer } from './fixtures/print-lines-container.js';

// About 25 s alone (every container is a node process); room for a busy CI machine.
t.setTimeout(150_000);

// Step 6 of docs/plugins.md: the whole conformance suite against this plugin.
const results = await runConformanceSuite(t, {
  name: 'process-logs',
  plugin: processLogsPlugin,
  pluginConfig: { commands: [], stopGraceMs: 500 },
  createContainer: createPrintLinesContainer,
  capabilities: { tty: false },
  capabilityNotes: { tty: 'processes write to pipes; this engine starts none on a terminal' },
  countOpenStreams: (engine) => (engine as ProcessLogsEngine).openReaders,
});

t.test('every scenario but tty-merged passes', async (t) => {
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
    ['tty-merged'],
    'only tty-merged is skipped, with its reason',
  );
});
