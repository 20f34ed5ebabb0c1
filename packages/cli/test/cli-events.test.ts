// `enginegate events` end to end: the real binary against a real gateway on the mock engine.
import t from 'tap';
import type { MockEngine } from '@enginegate/plugin-mock';
import { CliProcess } from './helpers/cli-process.js';
import { request, startGateway } from './helpers/gateway-fixture.js';

t.setTimeout(120_000);
const mock = await startGateway(t);
const engine = () => mock.gateway.engines.engineNamed('mock') as MockEngine;
const lineAt = () => ({ stream: 'stdout' as const, bytes: Buffer.from('x') });

t.test('events prints live events like docker events, and follows the engine after a switch', async (t) => {
  const cli = new CliProcess(['events'], mock.env);
  t.teardown(() => cli.stop());
  // Nothing is printed for the containers that exist; wait until the stream is open.
  await waitForStreams(1);
  const { id } = engine().addContainer({ name: 'egcli-one', lineCount: 2, intervalMs: 100, exitCode: 6, lineAt });
  // Its own die, printed whole: the demo project's migrate container dies too, at its own time.
  const ownDie = new RegExp(` container die ${id} .*\\)\\n`);
  await cli.waitFor(({ stdout }) => ownDie.test(stdout), 20_000, 'the die event');
  const printed = cli.output().stdout.trimEnd().split('\n');
  t.notOk(
    printed.some((line) => /name=mock-chatty/.test(line)),
    'the containers that exist are not printed',
  );
  // (project demo's worker may start meanwhile: its lines are left out here)
  const lines = printed.filter((line) => line.includes(id));
  t.same(
    lines.map((line) => line.split(' ').slice(1, 4).join(' ')),
    [`container create ${id}`, `container start ${id}`, `container die ${id}`],
    'live events, in order',
  );
  t.match(lines[0], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container create [0-9a-f]{64} \(name=egcli-one, image=/);
  t.match(lines[2], /, exitCode=6\)$/);

  // Stopped (1012, then 503 while it is down) and started again: a new engine generation.
  await request(mock.url, 'PUT', '/engine', { name: null });
  await cli.waitFor(({ stderr }) => /reconnecting/.test(stderr), 20_000, 'the reconnect notice');
  await request(mock.url, 'PUT', '/engine', { name: 'mock' });
  await waitForStreams(1);
  engine().addContainer({ name: 'egcli-two', lineCount: 1, intervalMs: 0, lineAt });
  await cli.waitFor(({ stdout }) => /name=egcli-two/.test(stdout), 20_000, 'an event of the engine after the switch');
  t.match(cli.output().stderr, /engine was switched or lost/);
});

t.test('events --json: the present records, synced, then the events as NDJSON', async (t) => {
  const cli = new CliProcess(['events', '--json'], mock.env);
  t.teardown(() => cli.stop());
  await cli.waitFor(({ stdout }) => stdout.includes('{"type":"synced"}'), 20_000, 'synced');
  engine().removeContainer('egcli-two');
  await cli.waitFor(({ stdout }) => /"action":"destroy".*egcli-two/.test(stdout), 20_000, 'the destroy event');
  const records = cli
    .output()
    .stdout.trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
  const synced = records.findIndex((r) => r.type === 'synced');
  t.ok(synced > 0 && records.slice(0, synced).every((r) => r.action === 'present'), 'present records first');
  t.ok(
    records.slice(0, synced).some((r) => r.container.names[0] === 'egcli-two'),
    'the container is present before it is destroyed',
  );
  // Other mock containers go on living (one exits every few seconds): the destroy is looked
  // for, not taken to be the last record.
  const destroyed = records.findIndex((r) => r.action === 'destroy' && r.container.names[0] === 'egcli-two');
  t.ok(destroyed > synced, 'the destroy comes after synced');
  t.match(records[destroyed], { type: 'container', action: 'destroy', container: { state: 'removed' } });
});

async function waitForStreams(count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (mock.gateway.openStreams < count) {
    if (Date.now() > deadline) throw new Error(`no ${count} open streams`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
