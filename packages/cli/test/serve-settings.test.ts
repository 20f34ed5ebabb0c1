// `enginegate serve`: the engines' settings, as --help lists them from each plugin's schema and as the gateway checks them.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { CliProcess, cliEnv, runCli } from './helpers/cli-process.js';
import { temporaryDirectory } from './helpers/gateway-fixture.js';

t.setTimeout(60_000);

const SETTINGS_PLUGIN = fileURLToPath(new URL('./fixtures/settings-plugin.mjs', import.meta.url));

/** The lines of one engine's block in the help: from `  NAME (` to the next engine. */
function engineBlock(help: string, name: string): string {
  const start = help.indexOf(`\n  ${name} (`);
  if (start === -1) return '';
  const next = help.slice(start + 1).search(/\n {2}\S/);
  return next === -1 ? help.slice(start + 1) : help.slice(start + 1, start + 1 + next);
}

t.test('serve --help lists every built-in engine with each setting, its type, default and description', async (t) => {
  const result = await runCli(['serve', '--help'], cliEnv({}));
  t.equal(result.code, 0, result.stderr);
  const moby = engineBlock(result.stdout, 'moby');
  t.match(moby, /^ {2}moby \(built-in\)/);
  t.match(moby, /dockerSocket: string \(env ENGINEGATE_MOBY_DOCKER_SOCKET\)\n {8}the Docker socket/);
  t.match(moby, /requestTimeoutMs: number, default 10000 /);
  const containerd = engineBlock(result.stdout, 'containerd');
  t.match(containerd, /address: string .*\n {8}containerd's gRPC socket \(alias --containerd-address\)/);
  t.match(containerd, /logRoots: list of string, default \/var\/lib\/nerdctl \/var\/log /);
  t.match(containerd, /pollIntervalMs: number, default 250 /);
  t.match(containerd, /exitSettleMs: number, default 600 /);
  t.match(engineBlock(result.stdout, 'podman'), /podmanSocket: string .*\n.*alias --podman-socket/);
  t.match(engineBlock(result.stdout, 'mock'), /builtinContainers: boolean, default true /);
  t.notMatch(result.stdout, /tailer/, 'a plugin not named is not listed');
});

t.test("serve --help --plugin FILE lists that plugin's settings too, from its schema", async (t) => {
  const result = await runCli(['serve', '--plugin', SETTINGS_PLUGIN, '--help'], cliEnv({}));
  t.equal(result.code, 0, result.stderr);
  const tailer = engineBlock(result.stdout, 'tailer');
  t.match(tailer, `  tailer (${SETTINGS_PLUGIN})`);
  t.match(
    tailer,
    /dir: string, required, default \/var\/log\/tailer \(env ENGINEGATE_TAILER_DIR\)\n {8}the folder whose files are followed/,
  );
  t.match(tailer, /maxFiles: integer \(env ENGINEGATE_TAILER_MAX_FILES\)\n {8}at most this many files/);
  t.match(engineBlock(result.stdout, 'moby'), /dockerSocket/, 'the built-ins are listed as well');
});

t.test('serve --help names a --plugin that cannot be loaded', async (t) => {
  const result = await runCli(['serve', '--plugin', './no-such-plugin.mjs', '--help'], cliEnv({}));
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /not loaded: plugin .*no-such-plugin\.mjs was not found/);
});

t.test(
  'a wrong setting value, of a built-in or a named plugin, is refused naming the plugin and the key',
  async (t) => {
    const serve = new CliProcess(
      [
        'serve',
        '--engine',
        'mock',
        '--listen',
        '127.0.0.1:0',
        '--state-dir',
        temporaryDirectory(t, 'enginegate-cli-settings-'),
        '--plugin',
        SETTINGS_PLUGIN,
        '--plugin-config',
        'tailer.maxFiles=many',
        '--plugin-config',
        'moby.requestTimeoutMs=soon',
      ],
      cliEnv({}),
    );
    t.teardown(() => serve.stop());
    await serve.waitFor(({ stderr }) => /\n {2}curl .*\n/.test(stderr), 30_000, 'the start banner');
    const { stdout } = serve.output();
    t.match(
      stdout,
      /plugin [^"]*settings-plugin\.mjs \(name \\"tailer\\"\) has wrong settings: setting maxFiles must be integer/,
    );
    t.match(stdout, /plugin [^"]*\(name \\"moby\\"\) has wrong settings: setting requestTimeoutMs must be number/);
    t.match(serve.output().stderr, /engine mock \(running\)/, 'the other engines still load');
  },
);
