// enginegate from its packed tarballs, installed with npm (not pnpm) into an empty folder outside
// the workspace, as a user or plugin author gets it: `npx enginegate serve` serves the mock
// engine's logs from there, and the packed containerd plugin finds its protos inside its package.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installPacked, type PackedInstall } from '@enginegate/test-harness/packed-install';

t.setTimeout(15 * 60_000);

const TOKEN = 'outside-token';
let install: PackedInstall;

t.before(async () => {
  install = await installPacked();
});
t.teardown(async () => install?.remove());

t.test('the installed manifests carry real version ranges, and plugin-api as the plugins’ peer', async (t) => {
  for (const name of [
    'cli',
    'gateway',
    'plugin-mock',
    'plugin-moby',
    'plugin-containerd',
    'plugin-podman',
    'testkit',
  ]) {
    const manifest = JSON.parse(
      await readFile(join(install.dir, 'node_modules', '@enginegate', name, 'package.json'), 'utf8'),
    ) as Record<string, Record<string, string> | undefined>;
    const ranges = { ...manifest['dependencies'], ...manifest['peerDependencies'] };
    t.same(
      Object.entries(ranges).filter(([, range]) => range.startsWith('workspace:')),
      [],
      `${name}: no workspace: range`,
    );
    if (name.startsWith('plugin-') || name === 'testkit') {
      t.equal(manifest['peerDependencies']?.['@enginegate/plugin-api'], '^0.1.0', `${name}: plugin-api is a peer`);
      t.notOk(manifest['dependencies']?.['@enginegate/plugin-api'], `${name}: and not a dependency`);
    }
  }
});

t.test('npx enginegate serve on the mock engine serves its logs', async (t) => {
  const serve = install.start('npx', [
    'enginegate',
    'serve',
    '--engine',
    'mock',
    '--listen',
    '127.0.0.1:0',
    '--token',
    TOKEN,
    '--state-dir',
    join(install.dir, 'state'),
  ]);
  t.teardown(() => serve.stop());
  const [, url] = await serve.waitFor(/listening on (http:\/\/[\d.:]+)/, 120_000);
  await serve.waitFor(/engine mock \(running\)/);
  const headers = { authorization: `Bearer ${TOKEN}` };
  // Followed, the stream ends once mock-exit has exited, after its last line.
  const logs = await fetch(`${url}/passthrough/engine/logs/mock-exit`, { headers });
  t.equal(logs.status, 200);
  const lines = (await logs.text()).split('\n').filter((line) => line !== '');
  t.equal(lines.length, 20, 'every line of mock-exit arrives');
  t.match(lines.at(-1), /^exit line 20 of 20: exiting with code \d+$/);
  const missing = await fetch(`${url}/passthrough/engine/logs/no-such-container?follow=false`, { headers });
  t.equal(missing.status, 404);
  t.equal(((await missing.json()) as { error?: { code?: string } }).error?.code, 'CONTAINER_NOT_FOUND');
  // The CLI prints stdout lines on stdout and stderr lines (mock-exit's last) on stderr.
  const printed = await install.exec('npx', ['enginegate', 'logs', 'mock-exit', '--url', url!, '--token', TOKEN]);
  t.same(printed.stdout.split('\n').slice(0, -1), lines.slice(0, -1), '`npx enginegate logs` prints the same lines');
  t.equal(printed.stderr, `${lines.at(-1)}\n`);
});

t.test('the packed containerd plugin loads the protos packed inside it', async (t) => {
  const script = [
    "const m = await import('@enginegate/plugin-containerd');",
    'const protos = m.loadContainerdProtos();',
    'console.log(JSON.stringify({ dir: m.defaultProtoDir(), services: Object.keys(protos.services) }));',
  ].join('\n');
  const { stdout } = await install.exec(process.execPath, ['--input-type=module', '-e', script]);
  const loaded = JSON.parse(stdout) as { dir: string; services: string[] };
  t.equal(loaded.dir, join(install.dir, 'node_modules', '@enginegate', 'plugin-containerd', 'proto/'));
  t.ok(loaded.services.includes('containerd'));
});
