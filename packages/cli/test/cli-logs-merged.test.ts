// `enginegate logs a b`, `--project`, `--label`, `--all`: one merged stream with `name | `
// prefixes (no colour when stdout is not a terminal), stderr lines on stderr.
import t from 'tap';
import { runCli } from './helpers/cli-process.js';
import { afterMockExitExited, startGateway } from './helpers/gateway-fixture.js';
import { MemberPrefixes } from '../src/member-prefixes.js';

t.setTimeout(120_000);
const mock = await startGateway(t);

t.test('logs mock-exit mock-bytes: prefixed lines, stderr lines on stderr, no colour off a terminal', async (t) => {
  await afterMockExitExited(mock);
  const result = await runCli(['logs', '--tail', '1', 'mock-exit', 'mock-bytes'], mock.env);
  t.equal(result.code, 0);
  t.equal(result.stdout, 'mock-bytes | mock-bytes: done; still running, writing nothing more\n');
  t.equal(result.stderr, 'mock-exit  | exit line 20 of 20: exiting with code 3\n');
  t.notOk((result.stdout + result.stderr).includes('\x1b['), 'no ANSI colour when not a TTY');
});

t.test('logs -f with a list: the stream ends once the listed containers exited', async (t) => {
  const result = await runCli(['logs', '-f', '--tail', '2', 'mock-exit', 'mock-exit'], mock.env);
  t.equal(result.code, 0, 'one container named twice: one member, ended with its exit');
  t.match(result.stderr, /^mock-exit \| exit line 20 of 20/m);
});

t.test('--project demo and --label select by label; mixing names and selectors is refused', async (t) => {
  // A member's last line may be a stderr line (web logs slow requests there): read both outputs.
  const printed = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
  const project = await runCli(['logs', '--tail', '1', '--project', 'demo'], mock.env);
  t.equal(project.code, 0);
  t.match(printed(project), /^demo-db-1 +\| /m);
  t.match(printed(project), /^demo-web-1 +\| /m);
  const label = await runCli(['logs', '--tail', '1', '--label', 'com.docker.compose.service=web'], mock.env);
  t.equal(label.code, 0);
  t.match(printed(label), /^demo-web-1 \| /m);
  t.notMatch(printed(label), /demo-db-1/);
  const both = await runCli(['logs', 'mock-exit', '--all'], mock.env);
  t.not(both.code, 0);
  t.match(both.stderr, /not both/);
});

t.test('on a terminal each member has its own colour', async (t) => {
  const prefixes = new MemberPrefixes(true);
  prefixes.join('web-1', 0);
  prefixes.join('database-1', 1);
  t.equal(prefixes.of('web-1').toString(), '\x1b[36mweb-1      | \x1b[0m');
  t.equal(prefixes.of('database-1').toString(), '\x1b[33mdatabase-1 | \x1b[0m');
  t.equal(new MemberPrefixes(false).of('web-1').toString(), 'web-1 | ');
});
