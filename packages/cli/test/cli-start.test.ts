// A client command (ps, logs, events, engine) starts without loading the gateway: fastify and
// ajv cost as much CPU again as the rest of the CLI's start. Only the gateway's state-dir rules
// (where the token file is) come from it, through its ./state-dir entry. And `serve` on one
// engine loads no other engine's code: the bundled moby, containerd and podman plugins are
// their /deferred entries until their engine first starts.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliProcess, cliEnv, runCli } from './helpers/cli-process.js';

const RECORDER = fileURLToPath(new URL('./fixtures/record-imports.mjs', import.meta.url));
const GATEWAY_DIST = fileURLToPath(new URL('../../gateway/dist/', import.meta.url));

const scratch = await mkdtemp(join(tmpdir(), 'enginegate-cli-start-'));
t.teardown(() => rm(scratch, { recursive: true, force: true }));

function recordingEnv(record: string): NodeJS.ProcessEnv {
  return cliEnv({
    RECORD_IMPORTS_FILE: record,
    NODE_OPTIONS: `--import=${RECORDER}`,
    // Nothing listens on port 1: the command gets as far as asking the gateway.
    ENGINEGATE_URL: 'http://127.0.0.1:1',
    ENGINEGATE_STATE_DIR: scratch,
  });
}

/** The files (not node: builtins) a run recorded in `record`. */
async function recordedFiles(record: string): Promise<string[]> {
  const urls = (await readFile(record, 'utf8')).split('\n').filter((url) => url.startsWith('file:'));
  return urls.map((url) => fileURLToPath(url));
}

/** The files one CLI run loaded. */
async function loadedFiles(name: string, args: string[]): Promise<{ code: number | null; files: string[] }> {
  const record = join(scratch, `${name}.txt`);
  const result = await runCli(args, recordingEnv(record));
  return { code: result.code, files: await recordedFiles(record) };
}

const gatewayFiles = (files: string[]) => files.filter((file) => file.startsWith(GATEWAY_DIST));
const fastifyFiles = (files: string[]) => files.filter((file) => /[/\\]node_modules[/\\].*fastify/.test(file));

for (const args of [['ps'], ['logs', 'web'], ['events'], ['engine']]) {
  t.test(`enginegate ${args.join(' ')} loads the gateway's state-dir rules and nothing else of it`, async (t) => {
    const { code, files } = await loadedFiles(args.join('-'), args);
    t.equal(code, 1, 'the gateway is unreachable: exit 1');
    t.same(gatewayFiles(files), [join(GATEWAY_DIST, 'state-dir.js')], 'the token file is looked for');
    t.same(fastifyFiles(files), [], 'no fastify');
  });
}

t.test('the recorder sees the gateway load: serve --help describes the engines through it', async (t) => {
  const { code, files } = await loadedFiles('serve-help', ['serve', '--help']);
  t.equal(code, 0);
  t.ok(gatewayFiles(files).includes(join(GATEWAY_DIST, 'index.js')), 'the gateway index is loaded');
  t.not(fastifyFiles(files).length, 0, 'and fastify with it');
});

const PLUGINS_DIR = fileURLToPath(new URL('../../../plugins/', import.meta.url));
const ENGINE_CODE = [
  'moby/dist/moby-engine.js',
  'containerd/dist/containerd-engine.js',
  'podman/dist/podman-engine.js',
];

t.test("serve --engine mock loads no other engine's code, only their deferred entries", async (t) => {
  const record = join(scratch, 'serve-mock.txt');
  const serve = new CliProcess(
    ['serve', '--engine', 'mock', '--listen', '127.0.0.1:0', '--state-dir', scratch],
    recordingEnv(record),
  );
  t.teardown(() => serve.stop());
  await serve.waitFor(
    ({ stdout, stderr }) => /Server listening at/.test(stdout + stderr),
    20_000,
    'the gateway to listen',
  );
  await serve.stop();
  const files = await recordedFiles(record);
  const engineFiles = files.filter((file) => ENGINE_CODE.some((code) => file === join(PLUGINS_DIR, code)));
  t.same(engineFiles, [], 'no engine module of moby, containerd or podman');
  t.same(
    files.filter((file) => /[/\\]node_modules[/\\].*(dockerode|ssh2|@grpc|protobufjs)/.test(file)),
    [],
    'nor their clients',
  );
  for (const plugin of ['moby', 'containerd', 'podman']) {
    t.ok(
      files.includes(join(PLUGINS_DIR, plugin, 'dist', 'deferred-plugin.js')),
      `the ${plugin} plugin is there, deferred`,
    );
  }
});
