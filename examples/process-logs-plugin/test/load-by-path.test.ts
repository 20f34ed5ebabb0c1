import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createGateway } from '@enginegate/gateway';
import { LogsClient } from '@enginegate/testkit';
import { COMMANDS_FILE_ENV } from 'enginegate-plugin-process-logs';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PLUGIN_DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const CLI_BIN = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const TOKEN = 'load-by-path-token';

/** A process that prints two lines (one on stderr) and exits 0. */
const GREETER = {
  name: 'greeter',
  command: process.execPath,
  args: ['-e', 'console.log("hello from a process"); console.error("and from its stderr")'],
};

t.test('createGateway loads the plugin from a relative path, as --plugin ./path does', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'enginegate-by-path-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const relativePath = `./${relative(process.cwd(), PLUGIN_DIST)}`;
  const gateway = await createGateway({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    stateDir,
    plugins: [relativePath],
    engine: 'process-logs',
    pluginConfig: { 'process-logs': { commands: [GREETER] } },
    logger: false,
  });
  t.teardown(() => gateway.close());
  t.same(gateway.pluginErrors, [], `${relativePath} loads without complaint`);
  const client = new LogsClient(await gateway.listen(), TOKEN);
  t.match(
    (await client.request('GET', '/engine')).json,
    { name: 'process-logs', state: 'running' },
    'the plugin is the running engine',
  );
  const listed = (await client.request('GET', '/passthrough/engine/containers')).json as Array<{ names: string[] }>;
  t.same(
    listed.map((c) => c.names),
    [['greeter']],
    'its configured process is listed as a container',
  );
  const logs = await client.readHttp('greeter', { follow: true, stderr: false });
  t.equal(
    logs.body.toString(),
    'hello from a process\n',
    'its stdout is served, and the followed stream ends when it exits',
  );
});

t.test('`enginegate serve --plugin ./path` loads it, refuses a broken one by name, and serves its logs', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'enginegate-cli-plugin-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const commandsFile = join(stateDir, 'commands.json');
  writeFileSync(commandsFile, JSON.stringify([GREETER]));
  const pluginArg = `./${relative(REPO_ROOT, PLUGIN_DIST)}`;
  const brokenArg = `./${relative(REPO_ROOT, fileURLToPath(new URL('./fixtures/throws-in-register.mjs', import.meta.url)))}`;
  const child = spawn(
    process.execPath,
    [
      CLI_BIN,
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--token',
      TOKEN,
      '--state-dir',
      stateDir,
      '--engine',
      'process-logs',
      '--plugin',
      pluginArg,
      '--plugin',
      brokenArg,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, [COMMANDS_FILE_ENV]: commandsFile, ENGINEGATE_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // this child, by its PID
      await exited;
    }
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening on" within 20 s; stderr:\n${stderr}\nstdout:\n${stdout}`)),
      20_000,
    );
    const look = () => {
      const match = /enginegate: listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stderr.on('data', look);
    void exited.then((code) =>
      reject(new Error(`enginegate serve exited (${code}) before listening; stderr:\n${stderr}`)),
    );
  });
  t.match(stderr, /enginegate: engine process-logs \(running\)/, "the banner names the plugin's engine, running");
  const client = new LogsClient(url, TOKEN);
  const logs = await client.readHttp('greeter', { follow: true }, { accept: 'application/x-ndjson' });
  const records = logs.body
    .toString()
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { type: string; stream?: string; line?: string; exitCode?: number });
  t.same(
    records
      .filter((r) => r.type === 'line')
      .map((r) => [r.stream, r.line])
      .sort(),
    [
      ['stderr', 'and from its stderr'],
      ['stdout', 'hello from a process'],
    ],
    'both lines are served, each on its stream',
  );
  t.same(records.at(-1), { type: 'exit', exitCode: 0 }, 'the followed stream ends with the exit record');
  const refusal = stdout
    .split('\n')
    .find((line) => line.includes('plugin failed to load') && line.includes('throws-in-register'));
  t.ok(refusal, "the broken plugin's refusal is logged, naming it");
  t.match(refusal ?? '', /"level":50/, 'at error level');

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM stops the gateway cleanly (exit 0)');
});
