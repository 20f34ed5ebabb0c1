// Podman's container events through the gateway, against a private `podman system service`:
// libpod's /events as the contract's create/start/die/destroy (die with the exit code), how
// soon each arrives, and a merged container= stream whose members leave with their exit codes.
import t from 'tap';
import { PodmanEngine } from '@enginegate/plugin-podman';
import { EventRecorder } from '@enginegate/test-harness/event-recorder';
import { recordingLogger } from '@enginegate/test-harness/log-records';
import { FRAMING_PROTOCOL } from '@enginegate/testkit';
import { podmanGateway } from './fixtures/podman-gateway.js';
import { podmanForTest, runBusybox, waitForExitCode, type PrivatePodman } from '@enginegate/test-harness/podman';

const TOKEN = 't';
/** Each event must reach the client within this long after the podman command that caused it returned. */
const BOUND_MS = 1000;
t.setTimeout(180_000);
const podman = await podmanForTest(t);
if (podman) await suite(podman);

/** A record of a merged stream in the JSON framing, as far as this test looks at it. */
interface MergedMessage {
  type: string;
  container?: string;
  exitCode?: number;
}

interface EventsMessage {
  type: string;
  action?: string;
  container?: { id: string; names: string[]; state: string; labels: Record<string, string>; image: string };
  time?: string;
  exitCode?: number;
}

/** RFC3339Nano (the gateway's fixed-width form) → epoch milliseconds with the fraction kept. */
function epochMs(time: string): number {
  const [whole, fraction = '0'] = time.replace(/Z$/, '').split('.');
  return Date.parse(`${whole}Z`) + Number(`0.${fraction}`) * 1000;
}

async function suite(podman: PrivatePodman): Promise<void> {
  const { gw, client } = await podmanGateway(t, podman, TOKEN);
  const engine = gw.engines.engineNamed('podman') as PodmanEngine;

  t.test(
    'GET /passthrough/engine/events: create, start, die (exit code), destroy, in order, each within 1 s',
    async (t) => {
      t.ok('events' in engine, 'the podman engine has events of its own (not polled)');
      const socket = client.socket('/passthrough/engine/events', [FRAMING_PROTOCOL.json]);
      t.teardown(() => socket.close());
      const messages = () => socket.jsonMessages() as EventsMessage[];
      await socket.waitFor(() => messages().some((m) => m.type === 'synced'), 'synced');
      const labels = { app: 'egp-events' };
      let id = '';
      const steps: Array<[string, () => Promise<unknown>]> = [
        [
          'create',
          async () => (id = await runBusybox(podman, 'sleep 600', { name: 'egp-events', labels, start: false })),
        ],
        ['start', () => podman.podman(['start', id])],
        ['die', () => podman.podman(['kill', id])],
        ['destroy', () => podman.podman(['rm', id])],
      ];
      const delays: string[] = [];
      for (const [action, step] of steps) {
        await step();
        const done = performance.now();
        const find = () =>
          socket.messages.find((m) => {
            const record = JSON.parse(m.data.toString()) as EventsMessage;
            return record.action === action && record.container?.id === id;
          });
        await socket.waitFor(() => find() !== undefined, `${action} of ${id.slice(0, 12)}`);
        const arrived = find()!;
        const record = JSON.parse(arrived.data.toString()) as EventsMessage;
        const afterCommand = arrived.at - done;
        const afterEvent = performance.timeOrigin + arrived.at - epochMs(record.time!);
        delays.push(
          `${action} ${Math.round(afterEvent)} ms after Podman's own time, ${Math.round(afterCommand)} ms after the command returned`,
        );
        t.ok(
          afterCommand < BOUND_MS,
          `${action} within ${BOUND_MS} ms of the command (${Math.round(afterCommand)} ms)`,
        );
        t.ok(
          afterEvent < BOUND_MS,
          `${action} within ${BOUND_MS} ms of the event's time (${Math.round(afterEvent)} ms)`,
        );
      }
      t.comment(`delays: ${delays.join('; ')}`);
      const mine = messages().filter((m) => m.type === 'container' && m.container?.id === id);
      t.same(
        mine.map((m) => [m.action, m.container!.state]),
        [
          ['create', 'created'],
          ['start', 'running'],
          ['die', 'exited'],
          ['destroy', 'removed'],
        ],
        'in order, each once (init, kill and cleanup are not events of the contract)',
      );
      t.match(mine[0], { container: { id, names: ['egp-events'], labels, image: podman.image } });
      t.equal(mine[2]!.exitCode, 137, 'die carries the exit code (SIGKILL)');
      t.same(mine[3]!.container!.labels, labels, 'destroy still describes the container');
      t.ok(
        mine.every((m, i) => i === 0 || epochMs(m.time!) >= epochMs(mine[i - 1]!.time!)),
        "Podman's times, in order",
      );
    },
  );

  t.test('a merged container= stream: two containers exiting 2 and 5 leave with their codes', async (t) => {
    const codes = [2, 5];
    const ids = await Promise.all(
      codes.map((code, i) =>
        runBusybox(podman, `for i in 1 2 3 4 5; do echo m${i} $i; sleep 0.3; done; exit ${code}`, {
          name: `egp-exit-${i}`,
        }),
      ),
    );
    t.teardown(() => podman.podman(['rm', '--force', '--time=0', ...ids]));
    const stream = client.mergedSocket({ container: ids, follow: true }, [FRAMING_PROTOCOL.json]);
    const closed = await stream.waitClosed(20_000);
    t.equal(closed.code, 1000, 'closed 1000 once both had exited');
    const records = stream.jsonMessages() as MergedMessage[];
    for (const [i, id] of ids.entries()) {
      t.equal(await waitForExitCode(podman, id), codes[i], `podman says ${id.slice(0, 12)} exited ${codes[i]}`);
      const own = records.filter((r) => r.container === id);
      t.equal(own.filter((r) => r.type === 'line').length, 5, `egp-exit-${i}: its 5 lines`);
      const last = own.at(-1);
      t.same(
        last?.type === 'leave' ? last.exitCode : last,
        codes[i],
        `egp-exit-${i} leaves last, with exit code ${codes[i]}`,
      );
    }
  });

  t.test('service killed: the iterable ends with ENGINE_UNAVAILABLE; events() is a 503 until it is back', async (t) => {
    const own = new PodmanEngine({
      config: { podmanSocket: podman.socket },
      logger: recordingLogger(),
      reportHealth() {},
    });
    await own.start();
    t.teardown(() => own.stop());
    const recorder = new EventRecorder(await own.events(new AbortController().signal));
    t.equal(own.openStreamCount, 1, 'the event stream counts as an open stream');
    await podman.kill();
    t.teardown(() => podman.start());
    t.match(await recorder.ended, { code: 'ENGINE_UNAVAILABLE' }, 'ended with EngineUnavailableError');
    await t.rejects(own.events(new AbortController().signal), { code: 'ENGINE_UNAVAILABLE' });
    await podman.start();
    const again = new EventRecorder(await own.events(new AbortController().signal));
    const id = await runBusybox(podman, 'exit 4', { name: 'egp-after-loss' });
    await again.waitFor((events) => events.some((r) => r.event.container.id === id && r.event.action === 'die'), 'die');
    t.equal(
      again.of(id).find((r) => r.event.action === 'die')!.event.exitCode,
      4,
      'events again once the service is back',
    );
    await own.stop();
    t.equal(await again.ended, undefined, 'stop() ends the iterable without an error');
  });
}
