// `enginegate logs -f --project NAME` on a real (private) dockerd, the "Done when": the
// project's containers as one stream with `name | ` prefixes, a container started afterwards
// joins, and `enginegate engine use` round trips (moby → mock → moby) repeat and lose nothing —
// each container's lines compared with its `docker logs`.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createGateway } from '@enginegate/gateway';
import mockPlugin from '@enginegate/plugin-mock';
import mobyPlugin from '@enginegate/plugin-moby';
import { dockerdForTest, runBusybox, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { countingScript } from '@enginegate/test-harness/lines-script';

const CLI_BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const TOKEN = 'logs-project-token-0123456789';
const PROJECT = 'egm-cli';
const LINE_COUNT = 150;
/** The worker, started last, writes for the whole round-trip test (~24 s unloaded): loaded, 150 lines were all written before round 2. */
const linesOf = (service: string) => (service === 'worker' ? 4 * LINE_COUNT : LINE_COUNT);
/** The escape that starts an ANSI colour. */
const ESC = '\x1b';

t.setTimeout(180_000);
const run = promisify(execFile);

/** The CLI's environment: this gateway, and no engine address leaking in. */
function cliEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ENGINEGATE_URL: url, ENGINEGATE_TOKEN: TOKEN };
  for (const key of ['DOCKER_HOST', 'CONTAINERD_ADDRESS', 'CONTAINER_HOST', 'ENGINEGATE_STATE_DIR', 'FORCE_COLOR'])
    delete env[key];
  return env;
}

/** `docker logs ID` against the private daemon: its stdout lines. */
async function dockerLogs(dockerd: PrivateDockerd, id: string): Promise<string[]> {
  const { stdout } = await run('docker', ['-H', dockerd.host, 'logs', id]);
  return stdout.split('\n').filter((l) => l.length > 0);
}

/** Waits for a state of the follower's output, polling it. */
async function waitFor(what: string, done: () => boolean, output: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output: ${output().slice(-600)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'enginegate-logs-project-'));
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

  const ids = new Map<string, string>();
  const start = async (service: string) => {
    const name = `${PROJECT}-${service}-1`;
    const script = countingScript(service, linesOf(service), 0.04, 'sleep 600');
    const labels = { 'com.docker.compose.project': PROJECT, 'com.docker.compose.service': service };
    ids.set(name, await runBusybox(dockerd, script, { name, labels }));
  };
  t.teardown(async () => {
    for (const id of ids.values()) await dockerd.docker.getContainer(id).remove({ force: true });
  });
  // Another project's container, which must not show.
  ids.set(
    'other-web-1',
    await runBusybox(dockerd, 'while true; do echo other; sleep 0.1; done', {
      name: 'other-web-1',
      labels: { 'com.docker.compose.project': 'other' },
    }),
  );
  await start('web');
  await start('db');

  const follower = spawn(process.execPath, [CLI_BIN, 'logs', '-f', '--project', PROJECT], { env: cliEnv(url) });
  let out = '';
  follower.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  let err = '';
  follower.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => follower.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (follower.exitCode === null) follower.kill('SIGTERM');
  });
  const output = () => `stdout: ${out}\nstderr: ${err}`;
  /** Each container's lines as the CLI printed them, by the name in its prefix. */
  const perContainer = () => {
    const lines = new Map<string, string[]>();
    for (const match of out.matchAll(/^(\S+?) *\| (.*)$/gm))
      lines.set(match[1]!, [...(lines.get(match[1]!) ?? []), match[2]!]);
    return lines;
  };
  const count = (name: string) => perContainer().get(`${PROJECT}-${name}-1`)?.length ?? 0;

  await t.test('the project’s containers as one stream, each line prefixed with its name', async (t) => {
    await waitFor('lines of web and db', () => count('web') >= 10 && count('db') >= 10, output);
    t.same([...perContainer().keys()].sort(), [`${PROJECT}-db-1`, `${PROJECT}-web-1`], 'only the project’s');
    t.notOk(out.includes('\x1b['), 'no colour when stdout is not a terminal');
    t.match(out, new RegExp(`^${PROJECT}-web-1 \\| web 1$`, 'm'), 'name | line, as docker compose logs prints');
  });

  await t.test('a container started afterwards joins the stream', async (t) => {
    await start('worker');
    await waitFor('a line of worker', () => count('worker') >= 1, output);
    t.pass('worker joined');
  });

  await t.test('on a terminal (script(1) gives it one) each member’s prefix has its own colour', async (t) => {
    const command = `${process.execPath} ${CLI_BIN} logs --tail 2 --project ${PROJECT}`;
    const { stdout } = await run('script', ['-qfec', command, '/dev/null'], { env: cliEnv(url) });
    const colours = new Map<string, Set<string>>();
    const coloured = new RegExp(`${ESC}\\[(\\d+)m(\\S+?) *\\| ${ESC}\\[0m`, 'g');
    for (const match of stdout.matchAll(coloured))
      colours.set(match[2]!, (colours.get(match[2]!) ?? new Set()).add(match[1]!));
    t.same([...colours.keys()].sort(), ['db', 'web', 'worker'].map((s) => `${PROJECT}-${s}-1`).sort(), 'every member');
    t.ok(
      [...colours.values()].every((set) => set.size === 1),
      'one colour a member',
    );
    t.equal(new Set([...colours.values()].flatMap((set) => [...set])).size, 3, 'three colours');
  });

  await t.test('engine use round trips: nothing repeated, nothing lost', async (t) => {
    const use = async (engine: string) => {
      const answer = await run(process.execPath, [CLI_BIN, 'engine', 'use', engine], { env: cliEnv(url) });
      t.match(answer.stdout + answer.stderr, engine, `engine use ${engine}`);
    };
    for (let round = 1; round <= 2; round++) {
      const before = count('worker');
      t.ok(before < linesOf('worker'), `round ${round} while worker is still writing (${before} lines so far)`);
      await use('mock');
      await use('moby');
      // The follower came back to moby: new lines of the member still writing arrive.
      await waitFor(`lines after round ${round}`, () => count('worker') > before + 5, output);
    }
    const services = ['web', 'db', 'worker'];
    await waitFor('every line of every member', () => services.every((s) => count(s) >= linesOf(s)), output, 90_000);
    for (const service of services) {
      const name = `${PROJECT}-${service}-1`;
      t.same(perContainer().get(name), await dockerLogs(dockerd, ids.get(name)!), `${name}: exactly its docker logs`);
    }
    t.equal(follower.exitCode, null, 'the follower is still following');
    follower.kill('SIGTERM');
    await exited;
  });
}

const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);
