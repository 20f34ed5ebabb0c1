// Switching the active engine at run time with the three real engines loaded (issues #5, #14): a
// private dockerd, a private containerd and a private podman service, each with a container
// called `swap-ticker`.
//
// - 20 WebSocket clients follow moby containers; PUT /engine containerd closes every one with
//   1012 within 1 s (as seen by clients in another process), and new requests are served from
//   containerd. Then containerd → podman, and podman → moby, the same way.
// - `enginegate logs swap-ticker -f --timestamps` keeps running across every switch: it
//   reconnects with after=<cursor> and goes on printing the lines of whichever engine is active.
//   A cursor is a time (moby and nerdctl json-file logs are timestamped; Podman's whole-second
//   times carry a position beside them, which other engines ignore), so the engine switched to
//   resumes at the same moment: the printed times never go backwards.
// - Back to moby; then {"name": null} is a 503 everywhere; then switching to a containerd
//   whose daemon is down leaves the engine `unavailable` until the daemon starts again.
// - Nothing is left open: gw.openStreams is 0 once the last client is gone.
// - Where a cursor means nothing to the new engine (a raw `ctr --log-uri file://` log has no
//   times), the gateway answers 400 naming after= and the CLI stops saying so.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createGateway, type Gateway } from '@enginegate/gateway';
import mobyPlugin from '@enginegate/plugin-moby';
import containerdPlugin from '@enginegate/plugin-containerd';
import podmanPlugin from '@enginegate/plugin-podman';
import { FRAMING_PROTOCOL, FRAMINGS, HttpStatusError, LogsClient, type Framing } from '@enginegate/testkit';
import { dockerdForTest, runBusybox, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { podmanForTest, runBusybox as runPodmanBusybox, type PrivatePodman } from '@enginegate/test-harness/podman';
import {
  containerdForTest,
  runNerdctlStyleTask,
  uniqueId,
  type PrivateContainerd,
} from '@enginegate/test-harness/containerd';

const TOKEN = 'swap-token';
/** The name both engines know: the CLI's reconnect finds it on whichever engine is active. */
const SHARED_NAME = 'swap-ticker';
/** Only moby has it. */
const MOBY_ONLY_NAME = 'swap-moby-only';
const CLIENTS = 20;
const CLOSE_WITHIN_MS = 1000;
const CLI_BIN = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WATCHERS_SCRIPT = fileURLToPath(new URL('./fixtures/stream-watchers.mjs', import.meta.url));

// Three real daemons, started side by side, on a loaded 2-core CI machine.
t.setTimeout(240_000);

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A ticker script: `<label> tick N` every 0.1 s, forever. */
function tickerScript(label: string): string {
  return `i=0; while true; do echo "${label} tick $i"; i=$((i+1)); sleep 0.1; done`;
}

/** `enginegate logs NAME -f --timestamps` against the gateway, its output collected. */
class CliFollower {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(url: string, container: string) {
    this.child = spawn(
      process.execPath,
      [CLI_BIN, 'logs', container, '-f', '--tail', '0', '--timestamps', '--url', url, '--token', TOKEN],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Printed lines as `{ time, text }` (the CLI prints `<fixed-width time> <line>`). */
  lines(): Array<{ time: string; text: string }> {
    return this.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ time: line.slice(0, line.indexOf(' ')), text: line.slice(line.indexOf(' ') + 1) }));
  }

  /** Waits until a line printed after the first `fromLine` lines matches `pattern`. */
  async waitForLine(pattern: RegExp, fromLine: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `the CLI to print a line matching ${pattern} (stderr: ${this.stderr.slice(-300)})`,
      () => {
        if (!this.running) throw new Error(`the CLI exited: ${this.stderr}`);
        return this.lines()
          .slice(fromLine)
          .some((line) => pattern.test(line.text));
      },
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    if (this.running && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGTERM');
    await this.exited;
  }
}

async function switchEngine(
  client: LogsClient,
  name: string | null,
): Promise<{ status: number; json: unknown; sentAt: number }> {
  const sentAt = Date.now();
  const { status, json } = await client.request('PUT', '/engine', { name });
  return { status, json, sentAt };
}

type WatcherEvent =
  | { event: 'ready' }
  | { event: 'close'; index: number; code: number; reason: string; at: number }
  | { event: 'error'; message: string };

/**
 * WebSocket followers in a child process (fixtures/stream-watchers.mjs), so that when they see
 * their close is not skewed by this process's event loop, which also runs the gateway.
 */
class StreamWatchers {
  readonly child: ChildProcess;
  readonly events: WatcherEvent[] = [];
  private stderr = '';

  constructor(url: string, streams: Array<{ ref: string; framing: Framing }>) {
    const specs = streams.map(({ ref, framing }) => ({ ref, protocol: FRAMING_PROTOCOL[framing] ?? null }));
    this.child = spawn(process.execPath, [WATCHERS_SCRIPT, url, TOKEN, JSON.stringify(specs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        this.events.push(JSON.parse(pending.slice(0, newline)) as WatcherEvent);
        pending = pending.slice(newline + 1);
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  private check(): void {
    const error = this.events.find((e) => e.event === 'error');
    if (error) throw new Error(`stream watchers: ${(error as { message: string }).message}`);
    if (this.child.exitCode !== null && this.child.exitCode !== 0)
      throw new Error(`stream watchers exited ${this.child.exitCode}: ${this.stderr}`);
  }

  /** Resolves once every stream has had its first message. */
  ready(timeoutMs = 20_000): Promise<void> {
    return waitFor(
      'every watched stream to get a line',
      () => {
        this.check();
        return this.events.some((e) => e.event === 'ready');
      },
      timeoutMs,
    );
  }

  /** Resolves with every stream's close, once all have closed. */
  async closes(count: number, timeoutMs = 10_000): Promise<Array<{ code: number; reason: string; at: number }>> {
    await waitFor(
      'every watched stream to close',
      () => {
        this.check();
        return this.events.filter((e) => e.event === 'close').length === count;
      },
      timeoutMs,
    );
    return this.events.filter((e): e is Extract<WatcherEvent, { event: 'close' }> => e.event === 'close');
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined)
      process.kill(this.child.pid, 'SIGTERM');
  }
}

/** Watches `streams`, runs `doSwitch` once they all flow, and asserts each closes 1012 within CLOSE_WITHIN_MS. */
async function expectSwitchClosesAll(
  t: Test,
  url: string,
  streams: Array<{ ref: string; framing: Framing }>,
  doSwitch: () => Promise<{ sentAt: number }>,
): Promise<void> {
  const watchers = new StreamWatchers(url, streams);
  t.teardown(() => watchers.stop());
  await watchers.ready();
  const { sentAt } = await doSwitch();
  const closes = await watchers.closes(streams.length);
  t.same(
    closes.filter((c) => c.code !== 1012).map((c) => `${c.code} ${c.reason}`),
    [],
    `all ${streams.length} streams closed with 1012`,
  );
  const slowest = Math.max(...closes.map((c) => c.at - sentAt));
  t.ok(
    slowest < CLOSE_WITHIN_MS,
    `every stream closed within ${CLOSE_WITHIN_MS} ms of the switch (slowest ${slowest} ms)`,
  );
}

async function suite(dockerd: PrivateDockerd, cd: PrivateContainerd, podman: PrivatePodman): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'enginegate-swap-'));
  t.teardown(() => rm(stateDir, { recursive: true, force: true }));
  const gw: Gateway = await createGateway({
    port: 0,
    token: TOKEN,
    stateDir,
    plugins: [mobyPlugin, containerdPlugin, podmanPlugin],
    engine: 'moby',
    pluginConfig: {
      moby: { dockerSocket: dockerd.socket },
      containerd: { address: cd.address, logRoots: [cd.logDir], pollIntervalMs: 100 },
      podman: { podmanSocket: podman.socket },
    },
    healthIntervalMs: 500,
    logger: false,
  });
  const url = await gw.listen();
  t.teardown(() => gw.close());
  const client = new LogsClient(url, TOKEN);

  await Promise.all([
    runBusybox(dockerd, tickerScript('moby'), { name: SHARED_NAME }),
    runBusybox(dockerd, tickerScript('moby-only'), { name: MOBY_ONLY_NAME }),
    runNerdctlStyleTask(cd, SHARED_NAME, tickerScript('containerd')),
    runPodmanBusybox(podman, tickerScript('podman'), { name: SHARED_NAME }),
  ]);

  const cli = new CliFollower(url, SHARED_NAME);
  t.teardown(() => cli.stop());

  await t.test(
    'moby → containerd: 20 moby streams close 1012 within 1 s; containerd serves; the CLI follows on',
    async (t) => {
      t.same(gw.engines.status, { name: 'moby', state: 'running' }, 'moby is active');
      await cli.waitForLine(/^moby tick \d+$/, 0);
      t.pass('the CLI prints moby lines');
      const cliLinesBefore = cli.lines().length;
      const streams = Array.from({ length: CLIENTS }, (_, i) => ({
        ref: i % 2 === 0 ? SHARED_NAME : MOBY_ONLY_NAME,
        framing: FRAMINGS[i % FRAMINGS.length]!,
      }));
      await expectSwitchClosesAll(t, url, streams, async () => {
        t.equal(gw.openStreams, CLIENTS + 1, `${CLIENTS} sockets and the CLI are open`);
        const put = await switchEngine(client, 'containerd');
        t.equal(put.status, 200, 'PUT /engine containerd answers 200');
        t.match(put.json, { name: 'containerd', state: 'running' }, 'containerd is running');
        return put;
      });

      const served = await client.readHttp(SHARED_NAME, { follow: false, tail: 3 });
      t.equal(served.status, 200);
      // At least the 3 asked for: a live log can grow between finding where the tail starts and reading it.
      t.match(served.body.toString(), /^(containerd tick \d+\n){3,}$/, `${SHARED_NAME} now comes from containerd`);
      const gone = await client.readHttp(MOBY_ONLY_NAME, { follow: false });
      t.equal(gone.status, 404, 'a container only moby has is a 404 on containerd');

      await cli.waitForLine(/^containerd tick \d+$/, cliLinesBefore);
      t.ok(cli.running, 'the CLI kept running and now prints containerd lines');
      await waitFor('the closed streams to be released', () => gw.openStreams === 1, 5000);
      t.equal(gw.openStreams, 1, 'only the CLI’s new stream is open');
    },
  );

  await t.test('containerd → podman: containerd streams close 1012; podman serves; the CLI follows on', async (t) => {
    const cliLinesBefore = cli.lines().length;
    await expectSwitchClosesAll(
      t,
      url,
      FRAMINGS.map((framing) => ({ ref: SHARED_NAME, framing })),
      async () => {
        const put = await switchEngine(client, 'podman');
        t.equal(put.status, 200, 'PUT /engine podman answers 200');
        t.match(put.json, { name: 'podman', state: 'running' }, 'podman is running');
        return put;
      },
    );
    const served = await client.readHttp(SHARED_NAME, { follow: false, tail: 3 });
    t.equal(served.status, 200);
    t.match(served.body.toString(), /^(podman tick \d+\n){3}$/, `${SHARED_NAME} now comes from podman, tail=3 exactly`);
    const gone = await client.readHttp(MOBY_ONLY_NAME, { follow: false });
    t.equal(gone.status, 404, 'a container only moby has is a 404 on podman');
    await cli.waitForLine(/^podman tick \d+$/, cliLinesBefore);
    t.ok(cli.running, 'the CLI kept running and now prints podman lines');
  });

  await t.test('podman → moby: podman streams close 1012; the CLI follows back', async (t) => {
    const cliLinesBefore = cli.lines().length;
    await expectSwitchClosesAll(
      t,
      url,
      FRAMINGS.map((framing) => ({ ref: SHARED_NAME, framing })),
      async () => {
        const put = await switchEngine(client, 'moby');
        t.equal(put.status, 200);
        t.match(put.json, { name: 'moby', state: 'running' }, 'moby is running again');
        return put;
      },
    );
    const served = await client.readHttp(MOBY_ONLY_NAME, { follow: false, tail: 1 });
    t.match(served.body.toString(), /^(moby-only tick \d+\n)+$/, 'moby serves again');
    await cli.waitForLine(/^moby tick \d+$/, cliLinesBefore);
    t.ok(cli.running, 'the CLI prints moby lines again');
  });

  await t.test('{"name": null}: 503 everywhere, the CLI waits', async (t) => {
    await expectSwitchClosesAll(t, url, [{ ref: SHARED_NAME, framing: 'json' }], async () => {
      const put = await switchEngine(client, null);
      t.equal(put.status, 200);
      t.match(put.json, { name: null, state: 'stopped' });
      return put;
    });

    const http = await client.readHttp(SHARED_NAME, { follow: false });
    t.equal(http.status, 503, 'plain HTTP logs: 503');
    t.ok(http.headers.get('retry-after'), 'with Retry-After');
    t.match(JSON.parse(http.body.toString()), { error: { code: 'ENGINE_UNAVAILABLE' } });
    const upgrade = await client.openSocket(SHARED_NAME, {}, 'json').then(
      () => undefined,
      (err: unknown) => err,
    );
    t.ok(upgrade instanceof HttpStatusError && upgrade.status === 503, 'WebSocket upgrade: 503');
    t.equal((await client.request('GET', '/passthrough/engine/containers')).status, 503, 'containers: 503');
    t.equal((await client.request('GET', '/readyz')).status, 503, 'readyz: 503');
    t.match((await client.request('GET', '/engine')).json, { name: null, state: 'stopped' });
    t.equal((await fetch(new URL('/healthz', url))).status, 200, 'the gateway itself is alive');
    await sleep(600); // a few of the CLI's retries
    t.ok(cli.running, 'the CLI keeps waiting for an engine');
    t.equal(gw.openStreams, 0, 'no stream is open');
  });

  await t.test('switching to a containerd that is down: unavailable, then running once it starts', async (t) => {
    const cliLinesBefore = cli.lines().length;
    await cd.stop();
    t.equal(cd.pid, undefined, 'the private containerd (stopped by its PID) is gone');
    const put = await switchEngine(client, 'containerd');
    t.equal(put.status, 200, 'the switch itself is accepted');
    await waitFor('state unavailable', () => gw.engines.status.state === 'unavailable', 15_000);
    t.same(gw.engines.status, { name: 'containerd', state: 'unavailable' });
    const http = await client.readHttp(SHARED_NAME, { follow: false });
    t.equal(http.status, 503, 'logs are 503 while containerd is down');

    await cd.start();
    await waitFor('state running', () => gw.engines.status.state === 'running', 30_000);
    t.same(gw.engines.status, { name: 'containerd', state: 'running' }, 'the gateway found containerd by itself');
    const served = await client.readHttp(SHARED_NAME, { follow: false, tail: 1 });
    t.equal(served.status, 200);
    t.match(served.body.toString(), /^(containerd tick \d+\n)+$/, 'containerd serves again');
    await cli.waitForLine(/^containerd tick \d+$/, cliLinesBefore, 30_000);
    t.pass('the CLI, waiting all along, prints containerd lines again');
  });

  await t.test('the CLI’s output across every switch; nothing left open', async (t) => {
    const printed = cli.lines();
    const times = printed.map((line) => line.time);
    const backwards = times.findIndex((time, i) => i > 0 && time < times[i - 1]!);
    t.equal(backwards, -1, `the printed times never go backwards across the switches (${printed.length} lines)`);
    // Each engine's own ticker numbers must not repeat: no line was printed twice.
    const seen = new Set<string>();
    const repeated = printed.filter((line) => {
      const again = seen.has(line.text);
      seen.add(line.text);
      return again;
    });
    t.same(
      repeated.map((line) => line.text),
      [],
      'no line printed twice',
    );
    // The engines' order in the output: moby, containerd, podman, moby, containerd.
    const runs = printed
      .map((line) => line.text.split(' ')[0])
      .filter((engine, i, all) => i === 0 || engine !== all[i - 1]);
    t.same(runs, ['moby', 'containerd', 'podman', 'moby', 'containerd'], 'the CLI followed every switch');
    // Within one stretch of an engine's lines, the ticker numbers are consecutive: resuming on
    // an engine at the cursor's time skipped none of that engine's lines after that time.
    const gaps: string[] = [];
    printed.forEach((line, i) => {
      const previous = printed[i - 1];
      if (previous === undefined || previous.text.split(' ')[0] !== line.text.split(' ')[0]) return;
      const n = Number(line.text.split(' ').at(-1));
      if (n !== Number(previous.text.split(' ').at(-1)) + 1) gaps.push(`${previous.text} → ${line.text}`);
    });
    t.same(gaps, [], 'no line skipped within an engine’s stretch');
    t.comment(`CLI stderr: ${cli.stderr.trim().split('\n').slice(-3).join(' | ')}`);

    await cli.stop();
    t.ok(!cli.running, 'the CLI stopped (by its PID)');
    // The gateway sees the CLI's connection end a moment later (FIN), then releases its stream.
    await waitFor('every stream released', () => gw.openStreams === 0, 5000);
    t.equal(gw.openStreams, 0, 'no stream left open');
    t.equal((await fetch(new URL('/healthz', url))).status, 200, 'the gateway is still alive');
  });

  // A moby cursor is a time. On a containerd container whose log has times (nerdctl json-file,
  // CRI) it resumes at that moment, as above. A `ctr --log-uri file://` log is raw bytes with
  // no times: there the cursor means nothing, and the gateway says so (400 naming `after`)
  // rather than replaying the whole log or guessing; the CLI stops with that message.
  await t.test(
    'a moby cursor on a containerd container whose log has no times: 400 naming after=, the CLI stops saying so',
    async (t) => {
      const rawName = uniqueId('swap-raw');
      await cd.runTask({
        id: rawName,
        logUri: `file://${join(cd.logDir, `${rawName}.log`)}`,
        script: tickerScript('raw'),
      });
      await switchEngine(client, 'moby');
      await runBusybox(dockerd, tickerScript('moby'), { name: rawName });
      let ndjson = '';
      await waitFor('a first moby line', async () => {
        ndjson = (
          await client.readHttp(rawName, { follow: false, tail: 1 }, { accept: 'application/x-ndjson' })
        ).body.toString();
        return ndjson.trim() !== '';
      });
      const mobyCursor = (JSON.parse(ndjson.trim().split('\n').at(-1)!) as { cursor: string }).cursor;
      t.match(mobyCursor, /^t\d+\.\d+$/, `moby hands out time cursors (${mobyCursor})`);

      const rawCli = new CliFollower(url, rawName);
      t.teardown(() => rawCli.stop());
      await rawCli.waitForLine(/^moby tick \d+$/, 0);
      const put = await switchEngine(client, 'containerd');
      t.match(put.json, { name: 'containerd', state: 'running' });

      const refused = await client.readHttp(rawName, { follow: false, after: mobyCursor });
      t.equal(refused.status, 400, 'the moby cursor on a raw-log containerd container is a 400');
      t.match(
        JSON.parse(refused.body.toString()),
        { error: { code: 'INVALID_ARGUMENT', message: /after/ } },
        'naming after=',
      );
      const { code } = await Promise.race([rawCli.exited, sleep(15_000).then(() => ({ code: 'still running' }))]);
      t.equal(code, 1, 'the CLI exits 1 instead of hanging or replaying the log');
      t.match(rawCli.stderr, /after/, `and says why: ${rawCli.stderr.trim()}`);
      const printed = rawCli.lines().map((line) => line.text);
      t.ok(
        printed.length > 0 && printed.every((text) => /^moby tick \d+$/.test(text)),
        `it printed only moby lines, no replay (${printed.length})`,
      );
      await waitFor('every stream released', () => gw.openStreams === 0, 5000);
      t.equal(gw.openStreams, 0, 'no stream left open');
    },
  );
}

// Last: the classes above must be initialised before the suite runs.
const [dockerd, cd, podman] = await Promise.all([dockerdForTest(t), containerdForTest(t), podmanForTest(t)]);
if (dockerd && cd && podman) await suite(dockerd, cd, podman);
