import t from 'tap';
import { ContainerNotFoundError } from '@enginegate/plugin-api';
import mockPlugin, { MockEngine } from '@enginegate/plugin-mock';
import { SCENARIOS, runConformanceSuite } from '@enginegate/testkit';

// Capabilities are honoured for an engine whose containers never exit: the mock, with every
// container kept running whatever exit code the suite asks for. Every scenario that does not
// need an exit passes (and none waits out the 15 s an exiting container gets); the others are
// skipped with the reason given.
t.setTimeout(120_000);

const REASON = 'these containers never exit';
const started = Date.now();
const results = await runConformanceSuite(t, {
  name: 'mock-never-exits',
  plugin: mockPlugin,
  pluginConfig: { builtinContainers: false },
  capabilities: { exits: false },
  capabilityNotes: { exits: REASON },
  async createContainer(lines, options, { name, engine }) {
    const mock = engine as MockEngine;
    mock.addContainer({
      name,
      tty: options.tty ?? false,
      lineCount: lines.length,
      lineAt: (i) => lines[i]!,
      intervalMs: options.intervalMs ?? 0,
      historyLines: lines.length > 0 ? 1 : 0,
    });
    return {
      ref: name,
      async remove() {
        try {
          mock.removeContainer(name);
        } catch (err) {
          if (!(err instanceof ContainerNotFoundError)) throw err;
        }
      },
    };
  },
  countOpenStreams: (engine) => (engine as MockEngine).activeReaders,
});
const elapsedMs = Date.now() - started;

t.test('what needs an exit is skipped with the reason; everything else passes', async (t) => {
  const needExit = SCENARIOS.filter((s) => s.needs.includes('exits')).map((s) => s.name);
  t.same(needExit, [
    'live-delivery',
    'exit-record',
    'cursor-resume',
    'events-lifecycle',
    'merged-join-leave',
    'merged-cursor-resume',
  ]);
  t.same(
    results.filter((r) => r.result === 'skip'),
    needExit.map((scenario) => ({ engine: 'mock-never-exits', scenario, result: 'skip', reason: REASON })),
  );
  t.same(
    results.filter((r) => r.result === 'fail'),
    [],
    'no scenario failed',
  );
  t.equal(results.filter((r) => r.result === 'pass').length, SCENARIOS.length - needExit.length);
  t.comment(`the suite took ${elapsedMs} ms`);
});
