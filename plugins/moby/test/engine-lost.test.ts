// The moby engine's state follows dockerd: stopped (or killed) mid-stream → the stream closes
// 1012 and requests get 503; back → logs are served again, without restarting the gateway.
// And `auto` picks moby when DOCKER_HOST answers.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGateway } from '@enginegate/gateway';
import mockPlugin from '@enginegate/plugin-mock';
import mobyPlugin from '@enginegate/plugin-moby';
import { dockerdForTest, runBusybox, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { LogsClient } from '@enginegate/test-client';

const TOKEN = 't';
t.setTimeout(180_000);
const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const gw = await createGateway({
    port: 0,
    token: TOKEN,
    plugins: [mobyPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket: dockerd.socket } },
    healthIntervalMs: 500,
    logger: false,
  });
  const client = new LogsClient(await gw.listen(), TOKEN);
  t.teardown(() => gw.close());

  const ticker = 'egm-ticker';
  await runBusybox(dockerd, 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done', { name: ticker });

  for (const how of ['stop', 'kill'] as const) {
    t.test(
      `dockerd ${how === 'stop' ? 'stopped (SIGTERM)' : 'killed (SIGKILL)'} mid-stream: 1012, then 503; back: served again`,
      async (t) => {
        const session = client.logsSocket(ticker, { tail: 0 }, ['v1.json.enginegate']);
        const events = client.socket('/passthrough/engine/events', ['v1.json.enginegate']);
        await session.waitForMessages(3);
        await events.waitFor((m) => m.some((x) => x.data.toString() === '{"type":"synced"}'), 'events synced');
        const pidBefore = dockerd.pid;
        const lostAt = performance.now();
        await (how === 'stop' ? dockerd.stop() : dockerd.kill());
        t.comment(`dockerd ${how} took ${(performance.now() - lostAt).toFixed(0)} ms`);
        t.equal(dockerd.pid, undefined, `the dockerd the test started (PID ${pidBefore}) is gone`);
        const { code, reason } = await session.closed;
        t.equal(code, 1012, `closed 1012 (${reason})`);
        t.equal((await events.closed).code, 1012, 'the events stream closes 1012 too');
        t.comment(`1012 ${(performance.now() - lostAt).toFixed(0)} ms after the daemon was gone`);
        const records = session.jsonMessages();
        t.notOk(
          records.some((r) => r['type'] === 'exit'),
          'no exit record: the daemon went away, not the container',
        );
        const lastCursor = records.filter((r) => r['type'] === 'line').at(-1)!['cursor'] as string;

        const unavailable = await client.readHttp(ticker, { follow: false });
        t.equal(unavailable.status, 503, 'logs are 503 while dockerd is down');
        t.ok(unavailable.headers.get('retry-after'), 'with Retry-After');
        t.match(JSON.parse(unavailable.body.toString()), { error: { code: 'ENGINE_UNAVAILABLE' } });
        t.equal(gw.engines.status.state, 'unavailable');

        const back = performance.now();
        await dockerd.start();
        t.comment(`dockerd start took ${(performance.now() - back).toFixed(0)} ms`);
        // Without live-restore, dockerd stopped the container with itself: start it again.
        await dockerd.docker.getContainer(ticker).start();
        await waitFor('the engine to run again', () => gw.engines.status.state === 'running');
        t.pass('the gateway found dockerd back by itself');
        const eventsAgain = client.socket('/passthrough/engine/events', ['v1.json.enginegate']);
        await eventsAgain.waitFor((m) => m.some((x) => x.data.toString() === '{"type":"synced"}'), 'events again');
        t.ok(
          eventsAgain.jsonMessages().some((r) => r['action'] === 'present' && r['container']['names'][0] === ticker),
          'events are served again, the ticker present',
        );
        eventsAgain.close();
        t.comment(`running again ${(performance.now() - back).toFixed(0)} ms after the restart began`);

        const resumed = client.logsSocket(ticker, { after: lastCursor }, ['v1.json.enginegate']);
        await resumed.waitForMessages(3);
        const lines = resumed.jsonMessages().filter((r) => r['type'] === 'line');
        t.ok(lines.length >= 3, 'logs are served again');
        // Compare with one full read: the resumed stream continues right behind the cursor.
        const full = await client.readHttp(ticker, { follow: false }, { accept: 'application/x-ndjson' });
        const cursors = full.body
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => (JSON.parse(l) as { cursor: string }).cursor);
        const at = cursors.indexOf(lastCursor);
        t.ok(at >= 0, 'the last cursor before the loss is in the log');
        t.same(
          lines.slice(0, 3).map((r) => r['cursor']),
          cursors.slice(at + 1, at + 4),
          'the resumed stream starts right behind the last record seen',
        );
        resumed.close();
        await resumed.closed;
      },
    );
  }

  t.test('auto picks moby when DOCKER_HOST answers, mock when it does not', async (t) => {
    const saved = process.env['DOCKER_HOST'];
    process.env['DOCKER_HOST'] = dockerd.host;
    t.teardown(() => {
      if (saved === undefined) delete process.env['DOCKER_HOST'];
      else process.env['DOCKER_HOST'] = saved;
    });
    const auto = await createGateway({ port: 0, token: TOKEN, plugins: [mobyPlugin], engine: 'auto', logger: false });
    t.teardown(() => auto.close());
    t.same(auto.engines.status, { name: 'moby', state: 'running' }, 'moby, through DOCKER_HOST');
    const autoClient = new LogsClient(await auto.listen(), TOKEN);
    const res = await autoClient.readHttp(ticker, { follow: false, tail: 1 });
    t.equal(res.status, 200);
    t.match(res.body.toString(), /^tick \d+\n$/, 'its logs come from the private dockerd');

    process.env['DOCKER_HOST'] = 'unix:///tmp/egm-no-such-daemon.sock';
    const fallback = await createGateway({
      port: 0,
      token: TOKEN,
      plugins: [mobyPlugin],
      builtinPlugins: [mockPlugin],
      engine: 'auto',
      logger: false,
    });
    t.teardown(() => fallback.close());
    t.same(fallback.engines.status, { name: 'mock', state: 'running' }, 'no Docker answering: mock');
  });
}
