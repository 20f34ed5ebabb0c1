import t from 'tap';
import { ContainerNotFoundError } from '@enginegate/plugin-api';
import mockPlugin, { MockEngine } from '@enginegate/plugin-mock';
import { SCENARIOS, runConformanceSuite } from '@enginegate/testkit';

// About 10 s alone; room for a busy 2-core CI machine running other files beside it.
t.setTimeout(120_000);

// The mock engine through the whole suite. Its containers are added straight to the engine
// the gateway runs; nothing is skipped, so every scenario must pass.
const results = await runConformanceSuite(t, {
  name: 'mock',
  plugin: mockPlugin,
  pluginConfig: { builtinContainers: false },
  async createContainer(lines, options, { name, engine }) {
    const mock = engine as MockEngine;
    mock.addContainer({
      name,
      tty: options.tty ?? false,
      lineCount: lines.length,
      lineAt: (i) => lines[i]!,
      intervalMs: options.intervalMs ?? 0,
      // The first line is written at creation, the others intervalMs apart.
      historyLines: lines.length > 0 ? 1 : 0,
      ...(options.exitCode === undefined ? {} : { exitCode: options.exitCode }),
    });
    return {
      ref: name,
      async remove() {
        try {
          mock.removeContainer(name);
        } catch (err) {
          // Stopping the engine (stopped-503) forgets every container.
          if (!(err instanceof ContainerNotFoundError)) throw err;
        }
      },
    };
  },
  countOpenStreams: (engine) => (engine as MockEngine).activeReaders,
});

t.test('the mock engine runs every scenario: none skipped, all pass', async (t) => {
  t.same(
    results.map((r) => r.scenario),
    SCENARIOS.map((s) => s.name),
    'every scenario ran, in order',
  );
  t.same(
    results.filter((r) => r.result !== 'pass'),
    [],
    'no scenario failed or was skipped',
  );
});
