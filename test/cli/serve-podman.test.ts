// `enginegate serve --engine podman --podman-socket PATH`: the real CLI binary, run as a child
// process (stopped by its PID), follows a running Podman container's logs live in every
// framing and over plain HTTP; `enginegate logs -f` prints them; `--engine auto` finds Podman
// through CONTAINER_HOST when no Docker or containerd answers.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { FRAMINGS, LogsClient, decodeBinaryMessages, decodeJsonMessages, decodeRawMessages } from '@enginegate/testkit';
import { podmanForTest, runBusybox, type PrivatePodman } from '@enginegate/test-harness/podman';

const CLI_BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const LINES = 10;
const INTERVAL_MS = 200;

t.setTimeout(180_000);

/** The CLI as a child process, its output collected; no engine address leaks in from the environment. */
class Cli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}) {
    const clean = { ...process.env };
    for (const key of ['DOCKER_HOST', 'CONTAINERD_ADDRESS', 'CONTAINER_HOST', 'ENGINEGATE_TOKEN', 'ENGINEGATE_URL'])
      delete clean[key];
    this.child = spawn(process.execPath, [CLI_BIN, ...args], {
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.child.exitCode !== null) throw new Error(`the CLI exited while waiting for ${what}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${this.stderr}`);
      await sleep(50);
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGTERM');
    return this.exited;
  }
}

async function serve(t: Test, args: string[], env: Record<string, string> = {}) {
  const stateDir = await mkdtemp(join(tmpdir(), 'enginegate-serve-podman-'));
  t.teardown(() => rm(stateDir, { recursive: true, force: true }));
  const cli = new Cli(['serve', '--listen', '127.0.0.1:0', '--state-dir', stateDir, ...args], env);
  t.teardown(() => cli.stop());
  await cli.waitFor('the start banner', () => /\n {2}curl .*\n/.test(cli.stderr));
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.stderr)![1]!;
  const token = (await readFile(join(stateDir, 'token'), 'utf8')).trim();
  return { cli, url, token, stateDir };
}

const podman = await podmanForTest(t);
if (podman) suite(podman);

function suite(podman: PrivatePodman): void {
  t.test('serve --engine podman: a running container followed live in every framing and over HTTP', async (t) => {
    const { cli, url, token, stateDir } = await serve(t, ['--engine', 'podman', '--podman-socket', podman.socket]);
    t.match(cli.stderr, /engine podman \(running\)/, 'the banner names the podman engine, running');
    const client = new LogsClient(url, token);
    const name = 'egp-serve-live';
    const id = await runBusybox(
      podman,
      `i=1; while [ $i -le ${LINES} ]; do echo "live $i"; echo "err $i" >&2; i=$((i+1)); sleep ${INTERVAL_MS / 1000}; done; exit 5`,
      { name },
    );
    t.teardown(() => podman.podman(['rm', '--force', '--time=0', id]));
    const follower = new Cli(['logs', name, '-f', '--url', url, '--state-dir', stateDir]);
    t.teardown(() => follower.stop());
    const sockets = await Promise.all(FRAMINGS.map((framing) => client.openSocket(name, {}, framing)));
    const http = client.readHttp(name, {}, { timeoutMs: 30_000 });
    const closes = await Promise.all(sockets.map((socket) => socket.waitClosed(30_000)));
    t.same(
      closes.map((c) => c.code),
      FRAMINGS.map(() => 1000),
      `every framing (${FRAMINGS.join(', ')}) closes 1000 after the exit`,
    );
    const out = Array.from({ length: LINES }, (_, i) => `live ${i + 1}`);
    const err = Array.from({ length: LINES }, (_, i) => `err ${i + 1}`);
    const [raw, text, json, binary] = sockets as [
      (typeof sockets)[0],
      (typeof sockets)[0],
      (typeof sockets)[0],
      (typeof sockets)[0],
    ];
    const rawLines = decodeRawMessages(raw.messages).toString().trimEnd().split('\n');
    t.same(
      rawLines.filter((l) => l.startsWith('live')),
      out,
      'raw: every stdout line',
    );
    t.same(
      rawLines.filter((l) => l.startsWith('err')),
      err,
      'raw: every stderr line, merged in',
    );
    t.same(
      text.messages.map((m) => m.data.toString()).filter((l) => l.startsWith('live')),
      out,
      'text: one line per message',
    );
    for (const [label, records] of [
      ['json', decodeJsonMessages(json.messages)],
      ['binary', decodeBinaryMessages(binary.messages)],
    ] as const) {
      const lines = records.filter((r) => r.type === 'line');
      t.same(
        lines.filter((r) => r.stream === 'stdout').map((r) => r.bytes.toString()),
        out,
        `${label}: stdout lines`,
      );
      t.same(
        lines.filter((r) => r.stream === 'stderr').map((r) => r.bytes.toString()),
        err,
        `${label}: stderr lines`,
      );
      t.same(records.at(-1), { type: 'exit', exitCode: 5 }, `${label}: the exit record last`);
    }
    const jsonArrivals = json.messages.map((m) => m.at);
    const spread = jsonArrivals.at(-1)! - jsonArrivals[0]!;
    t.ok(
      spread >= (LINES - 1) * INTERVAL_MS * 0.5,
      `lines arrived as they were written (${spread.toFixed(0)} ms spread)`,
    );
    const body = (await http).body.toString();
    t.same(
      body
        .trimEnd()
        .split('\n')
        .filter((l) => l.startsWith('live')),
      out,
      'plain HTTP (curl -N): every line, then the end',
    );
    await follower.waitFor('enginegate logs -f to end', () => follower.child.exitCode !== null, 20_000);
    t.same(follower.stdout.trimEnd().split('\n'), out, 'enginegate logs -f: the stdout lines on stdout');
    t.same(
      follower.stderr
        .trimEnd()
        .split('\n')
        .filter((l) => l.startsWith('err')),
      err,
      'and the stderr lines on stderr',
    );
  });

  t.test('serve --engine auto: podman through CONTAINER_HOST when nothing else answers', async (t) => {
    const { cli } = await serve(
      t,
      [
        '--engine',
        'auto',
        '--docker-socket',
        '/tmp/egp-no-docker.sock',
        '--containerd-address',
        '/tmp/egp-no-containerd.sock',
      ],
      {
        CONTAINER_HOST: podman.host,
      },
    );
    t.match(cli.stderr, /engine podman \(running\)/, 'auto picked podman');
    t.equal(await cli.stop(), 0, 'SIGTERM is a clean stop');
  });
}
