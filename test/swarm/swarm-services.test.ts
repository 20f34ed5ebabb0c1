// Docker Swarm services through the gateway and the CLI: a private dockerd made a one-node swarm
// (left again before it stops), the moby engine on it, and `enginegate ps --services` listing a
// service's tasks as `docker service ls` / `docker service ps` do.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGateway } from '@enginegate/gateway';
import mockPlugin from '@enginegate/plugin-mock';
import mobyPlugin from '@enginegate/plugin-moby';
import type { SwarmView } from '@enginegate/plugin-moby';
import type { PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { createService, scaleService, swarmForTest, waitForRunningTasks } from '@enginegate/test-harness/swarm';

const CLI_BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const TOKEN = 'swarm-test-token-0123456789';

t.setTimeout(240_000);

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI's environment: this gateway, and no engine address leaking in. */
function cliEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ENGINEGATE_URL: url, ENGINEGATE_TOKEN: TOKEN };
  for (const key of ['DOCKER_HOST', 'CONTAINERD_ADDRESS', 'CONTAINER_HOST', 'ENGINEGATE_STATE_DIR']) delete env[key];
  return env;
}

/** Runs the real CLI binary against the gateway. */
function cli(url: string, args: string[]): Promise<CliRun> {
  const env = cliEnv(url);
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const dockerd = await swarmForTest(t);
if (dockerd) await suite(dockerd);

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'enginegate-swarm-'));
  t.teardown(() => rm(stateDir, { recursive: true, force: true }));
  const gateway = await createGateway({
    port: 0,
    token: TOKEN,
    stateDir,
    plugins: [mobyPlugin],
    builtinPlugins: [mockPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket: dockerd.socket } },
    logger: false,
  });
  const url = await gateway.listen();
  t.teardown(() => gateway.close());

  await createService(dockerd, 'web', 'i=0; while true; do i=$((i+1)); echo "web $i"; sleep 0.2; done', {
    replicas: 2,
  });
  const tasks = await waitForRunningTasks(dockerd, 'web', 2);

  await t.test('ps --services: the service, 2/2, and its two tasks on this node', async (t) => {
    const json = await cli(url, ['ps', '--services', '--json']);
    t.equal(json.code, 0, json.stderr);
    const view = JSON.parse(json.stdout) as SwarmView;
    t.equal(view.role, 'manager');

    const table = await cli(url, ['ps', '--services']);
    t.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split('\n');
    t.match(lines[0], /^ID\s+NAME\s+MODE\s+REPLICAS\s+IMAGE$/);
    t.match(lines[1], new RegExp(`^\\w{12}\\s+web\\s+replicated\\s+2/2\\s+${dockerd.image}$`));
    for (const task of tasks) {
      const row = lines.find((line) => line.startsWith(task.id.slice(0, 12)));
      t.match(row, new RegExp(`^\\w{12}\\s+web\\.${task.slot}\\s+\\S+\\s+${view.hostname}\\s+running\\s+running$`));
    }
  });

  await t.test('ps lists the task containers; GET /passthrough lists moby/services', async (t) => {
    const ps = await cli(url, ['ps']);
    t.equal(ps.code, 0, ps.stderr);
    for (const task of tasks) t.match(ps.stdout, `web.${task.slot}.${task.id}`);
    const endpoints = await cli(url, ['endpoints']);
    t.match(endpoints.stdout, '/passthrough/moby/services');
  });

  await t.test(
    'logs -f --service web: every replica as one prefixed stream, a new replica joins, an engine use round trip loses nothing',
    async (t) => {
      const follower = spawn(process.execPath, [CLI_BIN, 'logs', '-f', '--tail', '1', '--service', 'web'], {
        env: cliEnv(url),
      });
      let out = '';
      follower.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      let err = '';
      follower.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      const exited = new Promise<number | null>((resolve) => follower.on('exit', (code) => resolve(code)));
      t.teardown(() => {
        if (follower.exitCode === null) follower.kill('SIGTERM');
      });
      // `web.SLOT.TASKID@NODE | web N`, as docker service logs names a task (no colour off a terminal).
      const perTask = () => {
        const tasks = new Map<string, number[]>();
        for (const match of out.matchAll(/^(web\.\d+\.\w{12}@\S+) *\| web (\d+)$/gm))
          tasks.set(match[1]!, [...(tasks.get(match[1]!) ?? []), Number(match[2])]);
        return tasks;
      };
      const waitFor = async (what: string, done: () => boolean) => {
        const deadline = Date.now() + 30_000;
        while (!done()) {
          if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${what}; stdout: ${out.slice(-400)} stderr: ${err}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      await waitFor('lines of both replicas', () => [...perTask().values()].filter((n) => n.length >= 3).length >= 2);
      t.same(
        [...perTask().keys()].map((name) => name.replace(/\..*/, '')).sort(),
        ['web', 'web'],
        'two tasks, each line prefixed with its task',
      );

      await scaleService(dockerd, 'web', 3);
      await waitFor('a line of the third replica', () =>
        [...perTask().keys()].some((name) => name.startsWith('web.3.')),
      );
      t.pass('the replica the scale started joined the stream');

      for (const engine of ['mock', 'moby']) {
        const use = await cli(url, ['engine', 'use', engine]);
        t.equal(use.code, 0, `engine use ${engine}: ${use.stderr}`);
      }
      const before = new Map([...perTask()].map(([name, numbers]) => [name, numbers.length]));
      await waitFor('lines of every replica after the round trip', () =>
        [...before].every(([name, count]) => (perTask().get(name)?.length ?? 0) >= count + 5),
      );
      follower.kill('SIGTERM');
      await exited;
      for (const [name, numbers] of perTask()) {
        const gaps = numbers.slice(1).filter((n, i) => n !== numbers[i]! + 1);
        t.same(gaps, [], `${name}: ${numbers[0]}…${numbers.at(-1)}, each once and none missing`);
      }
      await scaleService(dockerd, 'web', 2);
    },
  );

  await t.test('ps --services on an engine without services says so', async (t) => {
    const use = await cli(url, ['engine', 'use', 'mock']);
    t.equal(use.code, 0, use.stderr);
    const mock = await cli(url, ['ps', '--services']);
    t.equal(mock.code, 1);
    t.equal(mock.stderr, 'enginegate: the active engine has no services: --services needs the moby engine\n');
    t.equal(mock.stdout, '');
  });
}
