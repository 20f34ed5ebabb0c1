// `enginegate logs -f` across engine switches (close 1012): resumed with after=<cursor>.
import t from 'tap';
import { MockEngine } from '@enginegate/plugin-mock';
import { PLUGIN_API_VERSION, type Engine, type EnginePlugin } from '@enginegate/plugin-api';
import { CliProcess, cliEnv, runCli } from './helpers/cli-process.js';
import { chattyNumbers, request, sleep, startGateway, TOKEN } from './helpers/gateway-fixture.js';

t.setTimeout(120_000);
const mock = await startGateway(t);

/**
 * Two engine plugins over ONE mock engine whose containers keep their timeline: switching
 * between them closes streams with 1012 while the lines stay the same, so a correct resume
 * shows every line number exactly once.
 */
function steadyPlugins(): EnginePlugin[] {
  const shared = new MockEngine();
  let started = false;
  const plugin = (name: string): EnginePlugin => ({
    name,
    apiVersion: PLUGIN_API_VERSION,
    register(): Engine {
      return {
        name,
        logs: shared.logs,
        async start() {
          if (!started) await shared.start();
          started = true;
        },
        async stop() {
          // The gateway aborts every open stream; the containers (and their times) stay.
        },
        health: () => shared.health(),
        containers: () => shared.containers(),
      };
    },
  });
  return [plugin('steady-a'), plugin('steady-b')];
}

t.test('reconnect: switching engines under `logs -f` repeats and loses no line', async (t) => {
  const steady = await startGateway(t, { plugins: steadyPlugins(), engine: 'steady-a' });
  const steadyEnv = cliEnv({ ENGINEGATE_URL: steady.url, ENGINEGATE_TOKEN: TOKEN });
  const cli = new CliProcess(['logs', '-f', '--tail', '20', 'mock-chatty'], steadyEnv);
  t.teardown(() => cli.stop());
  await cli.waitFor(({ stdout }) => chattyNumbers(stdout).length >= 12, 20_000, 'the tail and a live line');
  for (const name of ['steady-b', 'steady-a', null, 'steady-b']) {
    const before = chattyNumbers(cli.output().stdout).length;
    const switched = await request(steady.url, 'PUT', '/engine', { name });
    t.equal(switched.status, 200, `switched to ${name}: ${switched.text}`);
    if (name === null) {
      // No engine for a while: the CLI keeps retrying through the 503s, then resumes.
      await sleep(1200);
      continue;
    }
    await cli.waitFor(
      ({ stdout }) => chattyNumbers(stdout).length >= before + 3,
      20_000,
      `lines after switching to ${name}`,
    );
  }
  const { stdout, stderr } = await cli.stop();
  const numbers = [...chattyNumbers(stdout), ...chattyNumbers(stderr)].sort((a, b) => a - b);
  const first = numbers[0]!;
  const last = numbers.at(-1)!;
  t.same(
    numbers,
    Array.from({ length: last - first + 1 }, (_, i) => first + i),
    `every line from ${first} to ${last} exactly once`,
  );
  t.ok(numbers.length > 40, `${numbers.length} lines over four switches`);
  t.notMatch(stderr, /enginegate:/, 'no error printed');
});

t.test(
  'reconnect: `engine stop` + `engine use mock` under `logs -f` keeps the CLI printing, times only moving forward',
  async (t) => {
    const cli = new CliProcess(['logs', '-f', '-t', '--tail', '3', 'mock-chatty'], mock.env);
    t.teardown(() => cli.stop());
    await cli.waitFor(({ stdout }) => chattyNumbers(stdout).length >= 4, 20_000, 'the first lines');
    const changes: string[] = [];
    const onChange = (change: { name: string | null; state: string }) => changes.push(`${change.name}:${change.state}`);
    mock.gateway.engines.on('change', onChange);
    t.teardown(() => mock.gateway.engines.off('change', onChange));
    // `engine use mock` while mock runs changes nothing; stopping and starting it is a real switch.
    const stopped = await runCli(['engine', 'stop'], mock.env);
    t.equal(stopped.code, 0, stopped.stderr);
    await sleep(300);
    const switched = await runCli(['engine', 'use', 'mock'], mock.env);
    t.equal(switched.code, 0, switched.stderr);
    t.same(changes.slice(0, 1), ['null:stopped'], 'the stream was closed (1012) by the stop');
    t.ok(changes.includes('mock:running'), `the engine was started again (${changes.join(', ')})`);
    const afterSwitch = cli.output().stdout.length;
    await cli.waitFor(
      ({ stdout }) => chattyNumbers(stdout.slice(afterSwitch)).length >= 3,
      20_000,
      'lines after the switch',
    );
    const { stdout, stderr } = await cli.stop();
    // The mock engine restarts its containers on a switch; what must hold is that no line is
    // printed twice: every line's time is later than the one before it.
    const times = [...stdout.matchAll(/^(\S+) chatty line/gm)].map((m) => m[1]!);
    t.ok(times.length >= 7);
    for (let i = 1; i < times.length; i++) t.ok(times[i]! > times[i - 1]!, `${times[i - 1]} < ${times[i]}`);
    t.notMatch(stderr, /enginegate:/);
  },
);
