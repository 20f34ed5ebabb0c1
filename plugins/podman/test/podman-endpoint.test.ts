// Where the plugin finds the Podman service: --podman-socket, then CONTAINER_HOST as Podman's
// remote clients read it, then /run/podman/podman.sock; and the libpod logs query it sends.
import t from 'tap';
import { EngineUnavailableError, InvalidArgumentError, NS_PER_S } from '@enginegate/plugin-api';
import {
  DEFAULT_PODMAN_SOCKET,
  PodmanEngine,
  describePodmanEndpoint,
  libpodLogsQuery,
  resolvePodmanEndpoint,
} from '@enginegate/plugin-podman';
import { recordingLogger } from '@enginegate/test-harness/log-records';

t.test('config.podmanSocket wins over CONTAINER_HOST', (t) => {
  const env = { CONTAINER_HOST: 'unix:///run/other.sock' };
  t.same(resolvePodmanEndpoint({ podmanSocket: '/run/my.sock' }, env), { kind: 'unix', socketPath: '/run/my.sock' });
  t.same(resolvePodmanEndpoint({ podmanSocket: 'unix:///run/my.sock' }, env), {
    kind: 'unix',
    socketPath: '/run/my.sock',
  });
  t.throws(() => resolvePodmanEndpoint({ podmanSocket: 7 }, env), InvalidArgumentError);
  t.end();
});

t.test('CONTAINER_HOST: unix, tcp, the default socket; ssh is refused with a way out', (t) => {
  t.same(resolvePodmanEndpoint({}, {}), { kind: 'unix', socketPath: DEFAULT_PODMAN_SOCKET });
  t.equal(DEFAULT_PODMAN_SOCKET, '/run/podman/podman.sock');
  t.same(resolvePodmanEndpoint({}, { CONTAINER_HOST: 'unix:///tmp/p.sock' }), {
    kind: 'unix',
    socketPath: '/tmp/p.sock',
  });
  t.same(resolvePodmanEndpoint({}, { CONTAINER_HOST: 'tcp://127.0.0.1:8888' }), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 8888,
  });
  t.equal(describePodmanEndpoint({ kind: 'unix', socketPath: '/tmp/p.sock' }), 'unix:///tmp/p.sock');
  t.throws(
    () => resolvePodmanEndpoint({}, { CONTAINER_HOST: 'ssh://core@localhost:2222/run/podman/podman.sock' }),
    { name: 'EngineUnavailableError', message: /--podman-socket/ },
    'ssh:// is refused, naming --podman-socket',
  );
  t.throws(() => resolvePodmanEndpoint({}, { CONTAINER_HOST: 'not a url' }), EngineUnavailableError);
  t.end();
});

t.test('start() fails with 503 while nothing listens, naming the socket', async (t) => {
  const engine = new PodmanEngine({
    config: { podmanSocket: '/tmp/egp-no-such-service.sock' },
    logger: recordingLogger(),
    reportHealth: () => {},
  });
  await t.rejects(engine.start(), { code: 'ENGINE_UNAVAILABLE', message: /unix:\/\/\/tmp\/egp-no-such-service\.sock/ });
  t.match(await engine.health(), { ok: false, message: /not answering/ });
  await engine.stop();
});

t.test('the libpod logs query: both streams and timestamps always; since/until around whole seconds', (t) => {
  const base = { follow: true, stdout: false, stderr: true };
  const s = 1_796_163_137n * NS_PER_S;
  t.same(libpodLogsQuery(base, undefined), { follow: true, stdout: true, stderr: true, timestamps: true });
  t.same(
    libpodLogsQuery(base, s),
    { follow: true, stdout: true, stderr: true, timestamps: true, since: '1796163136.999999999' },
    'reading from second S asks for entries after S - 1 ns (Podman’s since is exclusive)',
  );
  const future = libpodLogsQuery({ ...base, until: s + 500_000_000n }, undefined, s);
  t.equal(future.until, '1796163138.000000000', 'until=S.5 asks for everything before S+1: a record of second S is in');
  t.equal(future.follow, true, 'a follow with an until still ahead');
  t.equal(libpodLogsQuery({ ...base, until: s }, undefined, s + 3n * NS_PER_S).follow, false, 'an until past: a read');
  t.end();
});
