// Where the plugin finds the Docker daemon: --docker-socket, DOCKER_HOST and the TLS variables,
// as the Docker CLI reads them.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineUnavailableError } from '@enginegate/plugin-api';
import {
  DEFAULT_DOCKER_SOCKET,
  MobyEngine,
  describeDockerEndpoint,
  resolveDockerEndpoint,
} from '@enginegate/plugin-moby';

t.test('config.dockerSocket wins over DOCKER_HOST', async (t) => {
  const env = { DOCKER_HOST: 'tcp://10.0.0.1:2375' };
  t.same(resolveDockerEndpoint({ dockerSocket: '/run/my.sock' }, env), { kind: 'unix', socketPath: '/run/my.sock' });
  t.same(resolveDockerEndpoint({ dockerSocket: 'unix:///run/my.sock' }, env), {
    kind: 'unix',
    socketPath: '/run/my.sock',
  });
});

t.test('DOCKER_HOST: unix, tcp, and the default socket', async (t) => {
  t.same(resolveDockerEndpoint({}, {}), { kind: 'unix', socketPath: DEFAULT_DOCKER_SOCKET });
  t.same(resolveDockerEndpoint({}, { DOCKER_HOST: 'unix:///tmp/d.sock' }), { kind: 'unix', socketPath: '/tmp/d.sock' });
  t.same(resolveDockerEndpoint({}, { DOCKER_HOST: 'tcp://127.0.0.1:2375' }), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 2375,
  });
  t.same(resolveDockerEndpoint({}, { DOCKER_HOST: 'localhost:1234' }), { kind: 'tcp', host: 'localhost', port: 1234 });
  t.equal(describeDockerEndpoint(resolveDockerEndpoint({}, { DOCKER_HOST: 'tcp://[::1]:2375' })), 'http://::1:2375');
  t.throws(() => resolveDockerEndpoint({}, { DOCKER_HOST: 'ssh://user@host' }), EngineUnavailableError);
});

t.test('TLS: DOCKER_TLS_VERIFY with DOCKER_CERT_PATH, and its defaults', async (t) => {
  const certs = await mkdtemp(join(tmpdir(), 'egm-certs-'));
  t.teardown(() => rm(certs, { recursive: true, force: true }));
  for (const name of ['ca.pem', 'cert.pem', 'key.pem']) await writeFile(join(certs, name), `-- ${name} --`);
  const verified = resolveDockerEndpoint(
    {},
    { DOCKER_HOST: 'tcp://docker.example:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs },
  );
  t.match(verified, { kind: 'tcp', host: 'docker.example', port: 2376, tls: { verify: true } });
  if (verified.kind !== 'tcp' || !verified.tls) throw new Error('expected TLS');
  t.equal(verified.tls.ca?.toString(), '-- ca.pem --');
  t.equal(verified.tls.cert?.toString(), '-- cert.pem --');
  t.equal(verified.tls.key?.toString(), '-- key.pem --');
  t.equal(describeDockerEndpoint(verified), 'https://docker.example:2376');
  t.match(resolveDockerEndpoint({}, { DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs }), {
    port: 2376,
  });
  t.match(resolveDockerEndpoint({}, { DOCKER_HOST: 'tcp://h' }), { port: 2375 });
  t.match(resolveDockerEndpoint({}, { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS: '1', DOCKER_CERT_PATH: certs }), {
    tls: { verify: false },
  });
  t.throws(
    () =>
      resolveDockerEndpoint(
        {},
        { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: join(certs, 'missing') },
      ),
    EngineUnavailableError,
    'verification without a CA is refused',
  );
});

t.test('no daemon at the socket: start() and health() say unavailable, nothing throws elsewhere', async (t) => {
  const reports: unknown[] = [];
  const engine = new MobyEngine({
    config: { dockerSocket: '/tmp/egm-no-daemon-here.sock' },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    reportHealth: (h) => reports.push(h),
  });
  t.same(await engine.health(), { ok: false, message: 'the moby engine is not started' });
  await t.rejects(engine.start(), EngineUnavailableError);
  t.match(await engine.health(), { ok: false, message: /not answering/ });
  await t.rejects(
    engine.logs.open({ ref: 'x' }, { follow: true, stdout: true, stderr: true }, new AbortController().signal),
    {
      code: 'ENGINE_UNAVAILABLE',
    },
  );
  await t.rejects(engine.containers(), { code: 'ENGINE_UNAVAILABLE' });
  await engine.stop();
  await t.rejects(
    engine.logs.open({ ref: 'x' }, { follow: true, stdout: true, stderr: true }, new AbortController().signal),
    {
      code: 'ENGINE_UNAVAILABLE',
    },
  );
});
