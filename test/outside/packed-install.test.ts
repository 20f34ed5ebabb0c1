// enginegate from its packed tarballs, installed with npm (not pnpm) into an empty folder outside
// the workspace, as a user or plugin author gets it: `npx enginegate serve` serves the mock
// engine's logs from there, and the packed containerd plugin finds its protos inside its package.
// Then a plugin author's path: `npx enginegate plugin new my-plugin`, its dependencies installed
// into it from the tarballs (its own plugin-api, not the gateway's), built with its own
// TypeScript; `npx enginegate conformance --plugin ./my-plugin` passes, and `serve --plugin
// ./my-plugin --plugin-config my.dir=...` serves its files' lines and a 404 for an unknown one.
import t, { type Test } from 'tap';
import { realpathSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainerInfo } from '@enginegate/plugin-api';
import { SCENARIOS } from '@enginegate/testkit';
import { installPacked, type PackedInstall } from '@enginegate/test-harness/packed-install';

t.setTimeout(15 * 60_000);

const TOKEN = 'outside-token';
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
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

/** `names` and every @enginegate package they need (dependencies and peers), as tarballs: the registry has none. */
async function enginegateTarballs(names: string[]): Promise<string[]> {
  const needed = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    if (needed.has(name)) return;
    needed.add(name);
    const manifest = JSON.parse(
      await readFile(join(install.dir, 'node_modules', name, 'package.json'), 'utf8'),
    ) as Record<string, Record<string, string> | undefined>;
    for (const dep of Object.keys({ ...manifest['dependencies'], ...manifest['peerDependencies'] })) {
      if (dep.startsWith('@enginegate/')) await visit(dep);
    }
  };
  for (const name of names) await visit(name);
  return [...needed].map((name) => install.tarballs[name]!);
}

/** Scaffolds my-plugin, installs its dev dependencies into it (its own plugin-api) and builds it. */
async function scaffoldAndBuild(t: Test): Promise<string> {
  const { stdout } = await install.exec('npx', ['enginegate', 'plugin', 'new', 'my-plugin']);
  t.match(stdout, /^wrote the plugin my \(package my-plugin\) in my-plugin: /);
  const plugin = join(install.dir, 'my-plugin');
  const manifest = JSON.parse(await readFile(join(plugin, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const ours = Object.keys(manifest.devDependencies).filter((name) => name.startsWith('@enginegate/'));
  // TypeScript and Node's types as this repository has them, by path: nothing to download.
  const local = Object.keys(manifest.devDependencies)
    .filter((name) => !name.startsWith('@enginegate/'))
    .map((name) => realpathSync(join(REPOSITORY, 'node_modules', name)));
  await install.exec(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']
      .concat(await enginegateTarballs(ours))
      .concat(local),
    plugin,
  );
  await install.exec('npm', ['run', 'build'], plugin);
  return plugin;
}

t.test('npx enginegate plugin new: built with its own plugin-api, it passes conformance and serves', async (t) => {
  const plugin = await scaffoldAndBuild(t);
  const own = await realpath(join(plugin, 'node_modules', '@enginegate', 'plugin-api'));
  t.not(own, await realpath(join(install.dir, 'node_modules', '@enginegate', 'plugin-api')), 'a copy of its own');
  const { stdout: resolved } = await install.exec(
    process.execPath,
    ['--input-type=module', '-e', "console.log(import.meta.resolve('@enginegate/plugin-api'))"],
    join(plugin, 'dist'),
  );
  t.equal(fileURLToPath(resolved.trim()), join(own, 'dist', 'index.js'), 'the built plugin imports its own copy');

  // exec rejects on a non-zero exit: the conformance run exits 0.
  const { stdout: table } = await install.exec('npx', ['enginegate', 'conformance', '--plugin', './my-plugin']);
  t.match(table, /^\| scenario \| my \|\n/);
  const rows = [...table.matchAll(/^\| `([a-z0-9-]+)` \| ([^|]+) \|$/gm)];
  t.same(
    rows.map((row) => row[1]),
    SCENARIOS.map((s) => s.name),
    'a row for every scenario',
  );
  t.same(
    rows.filter((row) => !/^(pass|skip \[\d+\])$/.test(row[2]!)),
    [],
    'each passes or is skipped with a reason',
  );
  t.match(table, /\n\d+ passed, 0 failed, \d+ skipped\n$/);
  await serveMyPlugin(t);
});

async function serveMyPlugin(t: Test): Promise<void> {
  const logs = await mkdtemp(join(tmpdir(), 'enginegate-my-logs-'));
  t.teardown(() => rm(logs, { recursive: true, force: true }));
  await writeFile(join(logs, 'web'), 'web line 1\nweb line 2\n');
  await writeFile(join(logs, 'worker'), 'worker started\n');
  const serve = install.start('npx', [
    ...['enginegate', 'serve', '--plugin', './my-plugin', '--plugin-config', `my.dir=${logs}`, '--engine', 'my'],
    ...['--listen', '127.0.0.1:0', '--token', TOKEN, '--state-dir', join(install.dir, 'state-my')],
  ]);
  t.teardown(() => serve.stop());
  const [, url] = await serve.waitFor(/listening on (http:\/\/[\d.:]+)/, 120_000);
  await serve.waitFor(/engine my \(running\)/);
  const headers = { authorization: `Bearer ${TOKEN}` };
  const listed = (await (await fetch(`${url}/passthrough/engine/containers`, { headers })).json()) as ContainerInfo[];
  t.same(listed.map((c) => c.names[0]).sort(), ['web', 'worker'], 'every file is a container');
  const web = await fetch(`${url}/passthrough/engine/logs/web?follow=false`, { headers });
  t.equal(await web.text(), 'web line 1\nweb line 2\n', "a container's log is its file's lines");
  await followAppended(t, `${url}/passthrough/engine/logs/worker`, headers, join(logs, 'worker'));
  const missing = await fetch(`${url}/passthrough/engine/logs/no-such-file?follow=false`, { headers });
  t.equal(missing.status, 404);
  t.equal(((await missing.json()) as { error?: { code?: string } }).error?.code, 'CONTAINER_NOT_FOUND');
  const printed = await install.exec('npx', ['enginegate', 'logs', 'web', '--url', url!, '--token', TOKEN]);
  t.equal(printed.stdout, 'web line 1\nweb line 2\n', '`npx enginegate logs web` prints them');
}

/** A followed log sends what the file holds, then a line appended to it. */
async function followAppended(t: Test, logUrl: string, headers: Record<string, string>, file: string) {
  const controller = new AbortController();
  const answer = await fetch(logUrl, { headers, signal: controller.signal });
  const reader = answer.body!.getReader();
  let text = '';
  const readUntil = async (wanted: string) => {
    while (!text.includes(wanted)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
  };
  await readUntil('worker started\n');
  await appendFile(file, 'worker line 2\n');
  await readUntil('worker line 2\n');
  t.equal(text, 'worker started\nworker line 2\n', 'a followed file sends the line appended to it');
  controller.abort();
}
