// The engine-side helpers moby and podman share: OpenStreams (stop() ends every stream),
// OutageReporter (a loss told once per outage) and containerEnding (why a follow ended).
import t from 'tap';
import {
  OpenStreams,
  OutageReporter,
  containerEnding,
  type ContainerRunState,
  type EngineHealth,
} from '@enginegate/plugin-api';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

t.test('OpenStreams: a stream ends with its client or with abortAll; release forgets it once', (t) => {
  const streams = new OpenStreams();
  const client = new AbortController();
  const first = streams.open(client.signal);
  const second = streams.open(new AbortController().signal);
  t.equal(streams.size, 2);
  client.abort(new Error('client gone'));
  t.ok(first.signal.aborted, "the client's abort ends its stream");
  t.notOk(second.signal.aborted, 'not the other one');
  first.release();
  first.release();
  t.equal(streams.size, 1, 'released once');
  streams.abortAll(new Error('stop'));
  t.ok(second.signal.aborted, 'abortAll ends the rest');
  t.equal(streams.size, 0);
  const late = new AbortController();
  late.abort();
  t.ok(streams.open(late.signal).signal.aborted, 'a stream opened with an aborted signal starts aborted');
  t.end();
});

t.test('OutageReporter: reports a loss once per outage, and only after the engine was up', (t) => {
  const reports: EngineHealth[] = [];
  const outage = new OutageReporter(
    (h) => reports.push(h),
    quiet,
    () => ({}),
  );
  outage.lost('never up');
  t.same(reports, [], 'not before the engine was up (the gateway knows it is down)');
  outage.up();
  outage.lost('gone');
  outage.lost('gone again');
  t.same(reports, [{ ok: false, message: 'gone' }], 'once per outage');
  outage.up();
  outage.lost('gone later');
  t.equal(reports.length, 2, 'again after the engine was back');
  t.end();
});

t.test(
  'containerEnding: exit, running, removed, never started, exit after until; a lagging state is asked again',
  async (t) => {
    const signal = new AbortController().signal;
    const exited: ContainerRunState = { running: false, neverStarted: false, exitCode: 3, finishedAt: 100n };
    const ask = (states: Array<ContainerRunState | 'removed'>, expectExit = true, until?: bigint) => {
      let i = 0;
      return containerEnding(() => Promise.resolve(states[Math.min(i++, states.length - 1)]!), {
        expectExit,
        until,
        signal,
      });
    };
    t.same(await ask([exited]), { exitCode: 3 });
    t.equal(await ask(['removed']), 'ended');
    t.equal(await ask([{ ...exited, neverStarted: true }]), 'ended');
    t.equal(await ask([exited], true, 50n), 'ended', 'an exit after until is not part of the selection');
    t.same(await ask([exited], true, 100n), { exitCode: 3 }, 'an exit at until is');
    const running = { ...exited, running: true };
    t.same(await ask([running, running, exited]), { exitCode: 3 }, 'asked again while the state lags');
    t.equal(await ask([running], false), 'running', 'not asked again when no exit is expected');
  },
);
