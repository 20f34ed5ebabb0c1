// The podman engine's state follows `podman system service`: stopped (or killed) mid-stream →
// the stream closes 1012 and requests get 503; back → logs are served again, without restarting
// the gateway. The containers keep running meanwhile (conmon outlives the service), so a client
// that resumes with after= must get exactly the lines written during the outage; the events
// stream (libpod's own) closes 1012 alike and is served again. And `auto`
// picks podman when CONTAINER_HOST answers and no moby or containerd is loaded.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGateway } from '@enginegate/gateway';
import mockPlugin from '@enginegate/plugin-mock';
import podmanPlugin from '@enginegate/plugin-podman';
import { FRAMING_PROTOCOL, LogsClient, decodeJsonMessages, decodeNdjson } from '@enginegate/testkit';
import { podmanForTest, runBusybox, type PrivatePodman } from '@enginegate/test-harness/podman';

const TOKEN = 't';
t.setTimeout(240_000);
const podman = await podmanForTest(t);
if (podman) await suite(podman);

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function suite(podman: PrivatePodman): Promise<void> {
  const gw = await createGateway({
    port: 0,
    token: TOKEN,
    plugins: [podmanPlugin],
    engine: 'podman',
    pluginConfig: { podman: { podmanSocket: podman.socket } },
    healthIntervalMs: 500,
    logger: false,
  });
  const url = await gw.listen();
  t.teardown(() => gw.close());
  const client = new LogsClient(url, TOKEN);

  const ticker = 'egp-ticker';
  await runBusybox(podman, 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done', { name: ticker });

  for (const how of ['stop', 'kill'] as const) {
    t.test(
      `the service ${how === 'stop' ? 'stopped (SIGTERM)' : 'killed (SIGKILL)'} mid-stream: 1012, then 503; back: served again, nothing lost`,
      async (t) => {
        const session = await client.openSocket(ticker, { tail: 0 }, 'json');
        const events = client.socket('/passthrough/engine/events', [FRAMING_PROTOCOL.json]);
        await session.waitFor((messages) => messages.length >= 3, '3 lines');
        await events.waitFor((m) => m.some((x) => x.data.toString() === '{"type":"synced"}'), 'events synced');
        const pidBefore = podman.pid;
        const lostAt = performance.now();
        await (how === 'stop' ? podman.stop() : podman.kill());
        t.comment(`podman system service ${how} took ${(performance.now() - lostAt).toFixed(0)} ms`);
        t.equal(podman.pid, undefined, `the service the test started (PID ${pidBefore}) is gone`);
        const { code, reason } = await session.waitClosed(20_000);
        t.equal(code, 1012, `closed 1012 (${reason})`);
        t.equal((await events.waitClosed(20_000)).code, 1012, "the events stream (Podman's own) closes 1012 too");
        t.comment(`1012 ${(performance.now() - lostAt).toFixed(0)} ms after the loss began`);
        const records = decodeJsonMessages(session.messages);
        t.notOk(
          records.some((r) => r.type === 'exit'),
          'no exit record: the service went away, not the container',
        );
        const lastCursor = records.filter((r) => r.type === 'line').at(-1)!.cursor!;

        const unavailable = await client.readHttp(ticker, { follow: false });
        t.equal(unavailable.status, 503, 'logs are 503 while the service is down');
        t.ok(unavailable.headers.get('retry-after'), 'with Retry-After');
        t.match(JSON.parse(unavailable.body.toString()), { error: { code: 'ENGINE_UNAVAILABLE' } });
        t.equal(gw.engines.status.state, 'unavailable');
        await sleep(1500); // the ticker keeps writing while nobody can read it

        const back = performance.now();
        await podman.start();
        t.comment(`podman system service start took ${(performance.now() - back).toFixed(0)} ms`);
        await waitFor('the engine to run again', () => gw.engines.status.state === 'running');
        t.pass('the gateway found the service back by itself');
        t.comment(`running again ${(performance.now() - back).toFixed(0)} ms after the restart began`);
        const eventsAgain = client.socket('/passthrough/engine/events', [FRAMING_PROTOCOL.json]);
        await eventsAgain.waitFor((m) => m.some((x) => x.data.toString() === '{"type":"synced"}'), 'events again');
        t.ok(
          eventsAgain.jsonMessages().some((r) => r['action'] === 'present' && r['container']['names'][0] === ticker),
          'events are served again, the ticker present',
        );
        eventsAgain.close();

        const resumed = await client.openSocket(ticker, { after: lastCursor }, 'json');
        await resumed.waitFor((messages) => messages.length >= 20, '20 lines');
        resumed.close();
        const lines = decodeJsonMessages(resumed.messages).filter((r) => r.type === 'line');
        const full = decodeNdjson(
          (await client.readHttp(ticker, { follow: false }, { accept: 'application/x-ndjson' })).body,
        ).filter((r) => r.type === 'line');
        const at = full.findIndex((r) => r.cursor === lastCursor);
        t.ok(at >= 0, 'the last cursor before the loss is in the log');
        t.same(
          lines.map((r) => r.cursor),
          full.slice(at + 1, at + 1 + lines.length).map((r) => r.cursor),
          `the resumed stream continues right behind the last record seen, the ${lines.length} lines of the outage included`,
        );
        const numbers = lines.map((r) => Number(r.bytes.toString().split(' ')[1]));
        const before = Number(
          records
            .filter((r) => r.type === 'line')
            .at(-1)!
            .bytes.toString()
            .split(' ')[1],
        );
        t.same(
          numbers.slice(0, 5),
          [1, 2, 3, 4, 5].map((n) => before + n),
          'the ticker numbers go on from the last one seen',
        );
      },
    );
  }

  t.test('auto picks podman when CONTAINER_HOST answers, mock when it does not', async (t) => {
    const saved = process.env['CONTAINER_HOST'];
    process.env['CONTAINER_HOST'] = podman.host;
    t.teardown(() => {
      if (saved === undefined) delete process.env['CONTAINER_HOST'];
      else process.env['CONTAINER_HOST'] = saved;
    });
    const auto = await createGateway({ port: 0, token: TOKEN, plugins: [podmanPlugin], engine: 'auto', logger: false });
    t.teardown(() => auto.close());
    t.same(auto.engines.status, { name: 'podman', state: 'running' }, 'podman, through CONTAINER_HOST');
    const autoClient = new LogsClient(await auto.listen(), TOKEN);
    const res = await autoClient.readHttp(ticker, { follow: false, tail: 1 });
    t.equal(res.status, 200);
    t.match(res.body.toString(), /^tick \d+\n$/, 'its logs come from the private service');

    process.env['CONTAINER_HOST'] = 'unix:///tmp/egp-no-such-service.sock';
    const fallback = await createGateway({
      port: 0,
      token: TOKEN,
      plugins: [podmanPlugin],
      builtinPlugins: [mockPlugin],
      engine: 'auto',
      logger: false,
    });
    t.teardown(() => fallback.close());
    t.same(fallback.engines.status, { name: 'mock', state: 'running' }, 'no Podman answering: mock');
  });
}
