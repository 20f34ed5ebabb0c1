// `enginegate logs` end to end: the real binary against a real gateway with the mock engine.
import t from 'tap';
import { setTimeout as delay } from 'node:timers/promises';
import { CliProcess, runCli } from './helpers/cli-process.js';
import { afterMockExitExited, chattyNumbers, request, startGateway } from './helpers/gateway-fixture.js';

t.setTimeout(120_000);
const DOCKER_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z $/;
const mock = await startGateway(t);

t.test('logs -f mock-exit: 20 lines, stdout and stderr apart, exit 0 when the container exits', async (t) => {
  const result = await runCli(['logs', '-f', 'mock-exit'], mock.env);
  t.equal(result.code, 0);
  const expectedOut = Array.from({ length: 19 }, (_, i) => `exit line ${i + 1} of 20\n`).join('');
  t.equal(result.stdout, expectedOut);
  t.equal(result.stderr, 'exit line 20 of 20: exiting with code 3\n');
});

t.test('logs mock-exit (no follow) prints what is there and exits 0', async (t) => {
  await afterMockExitExited(mock);
  const result = await runCli(['logs', 'mock-exit'], mock.env);
  t.equal(result.code, 0);
  t.equal(result.stdout.split('\n').length - 1, 19);
  t.equal(result.stderr, 'exit line 20 of 20: exiting with code 3\n');
});

t.test('--tail 5 prints the last five lines', async (t) => {
  await afterMockExitExited(mock);
  const result = await runCli(['logs', '--tail', '5', 'mock-exit'], mock.env);
  t.equal(result.code, 0);
  t.equal(result.stdout, 'exit line 16 of 20\nexit line 17 of 20\nexit line 18 of 20\nexit line 19 of 20\n');
  t.equal(result.stderr, 'exit line 20 of 20: exiting with code 3\n');
});

t.test('-t prints exactly the times the gateway gives docker-style timestamps', async (t) => {
  await afterMockExitExited(mock);
  const result = await runCli(['logs', '-t', 'mock-exit'], mock.env);
  t.equal(result.code, 0);
  const cliLines = result.stdout.trimEnd().split('\n');
  t.equal(cliLines.length, 19);
  for (const line of cliLines) t.match(line.slice(0, 31), DOCKER_TIME);
  // The gateway's own `timestamps=true` text framing, stdout only, must be the same bytes.
  const http = await request(
    mock.url,
    'GET',
    '/passthrough/engine/logs/mock-exit?follow=false&timestamps=true&stderr=false',
  );
  t.equal(http.status, 200);
  t.equal(result.stdout, http.text);
  t.match(result.stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z exit line 20 of 20: exiting with code 3\n$/);
});

t.test('mock-bytes: the exact bytes, including those that are not UTF-8', async (t) => {
  const { mockBytesLines } = await import('@enginegate/plugin-mock');
  const result = await runCli(['logs', 'mock-bytes'], mock.env);
  t.equal(result.code, 0);
  const expected = (stream: string) =>
    Buffer.concat(
      mockBytesLines()
        .filter((l) => l.stream === stream)
        .flatMap((l) => [l.bytes, Buffer.from('\n')]),
    );
  t.ok(result.stdoutBytes.equals(expected('stdout')), 'stdout is byte-identical');
  t.equal(result.stderr, expected('stderr').toString());
});

t.test('logs -f mock-chatty prints new lines live', async (t) => {
  const cli = new CliProcess(['logs', '-f', '--tail', '0', 'mock-chatty'], mock.env);
  t.teardown(() => cli.stop());
  const opened = Date.now();
  await cli.waitFor(({ stdout }) => chattyNumbers(stdout).length >= 3, 20_000, 'three live stdout lines');
  const elapsed = Date.now() - opened;
  // --tail 0: none of the 1000 history lines; a new line every 100 ms, odd ones on stdout.
  const { stdout, stderr } = cli.output();
  const out = chattyNumbers(stdout);
  t.ok(out[0]! > 1000, `only new lines (${out[0]})`);
  t.ok(
    out.every((n) => n % 2 === 1),
    'odd lines on stdout',
  );
  t.ok(
    chattyNumbers(stderr).every((n) => n % 2 === 0),
    'even lines on stderr',
  );
  t.ok(elapsed >= 300, `lines arrive as they are written (${elapsed} ms)`);
  const result = await cli.stop();
  t.equal(result.signal, 'SIGTERM', 'still following until stopped');
});

t.test('logs | head: a closed stdout ends the CLI quietly', async (t) => {
  const cli = new CliProcess(['logs', '-f', 'mock-chatty'], mock.env);
  t.teardown(() => cli.stop());
  await cli.waitFor(({ stdout }) => stdout.length > 0, 20_000, 'the first output');
  cli.child.stdout.destroy();
  // An unref'd bound: the timer must not keep the process alive for 20 s after the CLI exits.
  const bound = delay(20_000, undefined, { ref: false });
  const result = await Promise.race([cli.exited, bound]);
  t.ok(result, 'exited');
  t.equal(result?.code, 0);
  t.notMatch(result?.stderr ?? '', /enginegate:|EPIPE|Error/);
});
