// `enginegate serve`: the real binary, run as a child process and stopped by its PID.
import t from 'tap';
import { join } from 'node:path';
import { CliProcess, cliEnv, runCli } from './helpers/cli-process.js';
import { temporaryDirectory } from './helpers/gateway-fixture.js';

t.setTimeout(120_000);

t.test('serve refuses --no-auth on a non-loopback address with one line', async (t) => {
  const result = await runCli(
    ['serve', '--engine', 'mock', '--no-auth', '--listen', '0.0.0.0:0'],
    cliEnv({ ENGINEGATE_STATE_DIR: temporaryDirectory(t, 'enginegate-cli-serve-') }),
    15_000,
  );
  t.not(result.code, 0);
  t.equal(
    result.stderr
      .trimEnd()
      .split('\n')
      .filter((l) => l.startsWith('enginegate:')).length,
    1,
    result.stderr,
  );
  t.match(result.stderr, /no-auth/);
});

t.test('serve: prints where it listens and where the token is; ps works with that; SIGTERM stops it', async (t) => {
  const stateDir = temporaryDirectory(t, 'enginegate-cli-serve-');
  const serve = new CliProcess(
    ['serve', '--engine', 'mock', '--listen', '127.0.0.1:0', '--state-dir', stateDir],
    cliEnv({}),
  );
  t.teardown(() => serve.stop());
  await serve.waitFor(({ stderr }) => /\n {2}curl .*\n/.test(stderr), 30_000, 'the start banner');
  const { stderr } = serve.output();
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
  t.ok(url, 'prints the URL');
  t.match(stderr, /engine mock \(running\)/);
  t.match(stderr, `token in ${join(stateDir, 'token')}`);
  t.match(stderr, /enginegate logs mock-chatty -f/);
  t.match(
    stderr,
    `curl -N -H "Authorization: Bearer $(cat ${join(stateDir, 'token')})" ${url}/passthrough/engine/logs/mock-chatty`,
  );
  const ps = await runCli(['ps', '--url', url!, '--state-dir', stateDir], cliEnv({}));
  t.equal(ps.code, 0, ps.stderr);
  t.match(ps.stdout, /mock-chatty/);
  const stopping = Date.now();
  const result = await serve.stop();
  t.ok(Date.now() - stopping < 5000, 'stops within 5 s');
  t.equal(result.code, 0, 'SIGTERM is a clean stop');
});
