// ps, engine, endpoints, tokens and errors end to end: the real binary against a real gateway.
import t from 'tap';
import http from 'node:http';
import { join } from 'node:path';
import { MOCK_CONTAINERS } from '@enginegate/plugin-mock';
import { cliEnv, runCli } from './helpers/cli-process.js';
import {
  afterMockExitExited,
  chattyNumbers,
  startGateway,
  temporaryDirectory,
  TOKEN,
} from './helpers/gateway-fixture.js';

t.setTimeout(120_000);
const mock = await startGateway(t);

t.test('errors are one line and a non-zero exit', async (t) => {
  const notFound = await runCli(['logs', 'nosuch'], mock.env);
  t.equal(notFound.code, 1);
  t.equal(notFound.stderr, 'enginegate: no such container: nosuch (CONTAINER_NOT_FOUND)\n');
  t.equal(notFound.stdout, '');

  const wrongToken = await runCli(
    ['logs', 'mock-chatty'],
    cliEnv({ ENGINEGATE_URL: mock.url, ENGINEGATE_TOKEN: 'wrong' }),
  );
  t.equal(wrongToken.code, 1);
  t.match(
    wrongToken.stderr,
    /^enginegate: the gateway at http:\/\/127\.0\.0\.1:\d+ refused the token \(looked at ENGINEGATE_TOKEN\)[^\n]*\n$/,
  );

  const wrongFlag = await runCli(['ps', '--token', 'wrong'], mock.env);
  t.equal(wrongFlag.code, 1);
  t.match(wrongFlag.stderr, /^enginegate: [^\n]*refused the token \(looked at --token\)[^\n]*\n$/);

  const emptyStateDir = temporaryDirectory(t, 'enginegate-cli-empty-');
  const noToken = await runCli(['ps', '--state-dir', emptyStateDir], cliEnv({ ENGINEGATE_URL: mock.url }));
  t.equal(noToken.code, 1);
  t.match(
    noToken.stderr,
    `needs a token (looked at --token, ENGINEGATE_TOKEN and ${join(emptyStateDir, 'token')} (none found))`,
  );
  t.equal(noToken.stderr.split('\n').length, 2, 'one line');
});

t.test('gateway down: one line that says so', async (t) => {
  // A port that was just free: listen, note it, close.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  const url = `http://127.0.0.1:${port}`;
  for (const args of [['logs', 'mock-chatty'], ['ps'], ['engine'], ['endpoints']]) {
    const result = await runCli(args, cliEnv({ ENGINEGATE_URL: url, ENGINEGATE_TOKEN: TOKEN }));
    const command = args[0]!;
    t.equal(result.code, 1, command);
    t.equal(
      result.stderr,
      `enginegate: cannot reach the gateway at ${url} (is \`enginegate serve\` running?)\n`,
      command,
    );
  }
});

t.test('the token file the gateway wrote is found through --state-dir', async (t) => {
  const stateDir = temporaryDirectory(t, 'enginegate-cli-generated-');
  const generated = await startGateway(t, { token: undefined, stateDir });
  const result = await runCli(['ps', '--state-dir', stateDir], cliEnv({ ENGINEGATE_URL: generated.url }));
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /mock-chatty/);
  const viaEnv = await runCli(['ps'], cliEnv({ ENGINEGATE_URL: generated.url, ENGINEGATE_STATE_DIR: stateDir }));
  t.equal(viaEnv.code, 0, viaEnv.stderr);
});

t.test('ps lists the mock containers like docker ps', async (t) => {
  await afterMockExitExited(mock);
  const running = await runCli(['ps'], mock.env);
  t.equal(running.code, 0, running.stderr);
  const lines = running.stdout.trimEnd().split('\n');
  t.match(lines[0], /^CONTAINER ID +IMAGE +STATE +NAMES$/);
  // Beside project 'demo' (whose worker starts 3 s after the engine): three running built-ins.
  t.equal(lines.filter((line) => / mock-\w+$/.test(line)).length, 3, 'three running built-in containers');
  t.match(running.stdout, / demo-web-1\n/, "project demo's containers too");
  const chatty = lines.find((line) => line.endsWith('mock-chatty'));
  t.ok(chatty?.startsWith(`${MOCK_CONTAINERS['mock-chatty'].slice(0, 12)}   `), '12-character ID first');
  t.match(chatty, /enginegate\/mock-chatty:latest +running +mock-chatty$/);
  t.notMatch(running.stdout, /mock-exit/, 'exited containers only with --all');
  const all = await runCli(['ps', '--all'], mock.env);
  t.match(all.stdout, /exited +mock-exit\n/);
  const json = await runCli(['ps', '--json'], mock.env);
  const listed = JSON.parse(json.stdout) as Array<{ names: string[] }>;
  t.equal(listed.filter((c) => c.names[0]!.startsWith('mock-')).length, 4);
});

t.test('engine, engine use, engine stop, endpoints', async (t) => {
  const shown = await runCli(['engine'], mock.env);
  t.equal(shown.code, 0, shown.stderr);
  t.match(shown.stdout, /^engine: +mock\nstate: +running\n/);

  const used = await runCli(['engine', 'use', 'mock'], mock.env);
  t.equal(used.code, 0, used.stderr);
  t.match(used.stdout, /^engine: +mock\n/);

  const unknown = await runCli(['engine', 'use', 'nosuch-engine'], mock.env);
  t.equal(unknown.code, 1);
  t.equal(unknown.stderr.split('\n').length, 2, 'one line');
  t.match(unknown.stderr, /nosuch-engine/);

  const stopped = await runCli(['engine', 'stop'], mock.env);
  t.equal(stopped.code, 0, stopped.stderr);
  t.match(stopped.stdout, /^engine: +none\nstate: +stopped\n/);
  const noEngine = await runCli(['logs', 'mock-chatty'], mock.env);
  t.equal(noEngine.code, 1, 'no engine: logs fails at once');
  t.match(noEngine.stderr, /^enginegate: [^\n]*\(ENGINE_UNAVAILABLE\)\n$/);
  const restarted = await runCli(['engine', 'use', 'mock'], mock.env);
  t.equal(restarted.code, 0, restarted.stderr);
  t.match(restarted.stdout, /^engine: +mock\nstate: +running\n/);

  const endpoints = await runCli(['endpoints'], mock.env);
  t.equal(endpoints.code, 0, endpoints.stderr);
  t.match(endpoints.stdout, /^engine: mock \(\w+\)\nCONTROLLER +ENDPOINT +PATH\n/);
  t.match(endpoints.stdout, /engine +containers +\/passthrough\/engine\/containers\n/);
  t.match(endpoints.stdout, /engine +logs +\/passthrough\/engine\/logs/);
});

t.test('a gateway on a unix socket: --url unix:PATH', async (t) => {
  const socket = join(temporaryDirectory(t, 'enginegate-cli-sock-'), 'gateway.sock');
  const onSocket = await startGateway(t, { socket });
  t.equal(onSocket.url, `unix:${socket}`);
  const socketEnv = cliEnv({ ENGINEGATE_URL: `unix:${socket}`, ENGINEGATE_TOKEN: TOKEN });
  const ps = await runCli(['ps'], socketEnv);
  t.equal(ps.code, 0, ps.stderr);
  t.match(ps.stdout, /mock-chatty/);
  const logs = await runCli(['logs', '--tail', '2', 'mock-chatty'], socketEnv);
  t.equal(logs.code, 0, logs.stderr);
  t.equal(chattyNumbers(logs.stdout + logs.stderr).length, 2);
});
