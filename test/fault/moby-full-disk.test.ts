// A Docker json-file log on a tiny tmpfs (1 MiB) that dockerd fills to ENOSPC while a WebSocket
// follows the container: between create and start, a file on the tmpfs is bind-mounted on the
// container's log file (dockerd confines symlinks to the container's dir; its other files stay
// on the real disk).
// dockerd loses each entry that does not fit and goes on. The client gets what is on disk, the
// gateway serves other requests meanwhile, and nothing is left open once clients leave. What
// dockerd 20.10 does next is a known limitation of its own (a todo here): its reader waits for
// the rest of the entry the full disk cut, so neither the later lines nor the end ever come.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createGateway } from '@enginegate/gateway';
import mobyPlugin, { type MobyEngine } from '@enginegate/plugin-moby';
import { dockerdForTest, runBusybox, waitForExitCode, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { LogsClient, type LogSocket } from '@enginegate/test-client';
import { HEALTH_INTERVAL_MS } from './fixtures/daemon-faults.js';
import {
  assertConsecutive,
  assertNothingLeaked,
  followNdjson,
  lineTexts,
  openFds,
  waitUntil,
  type JsonRecord,
} from './fixtures/fault-support.js';
import { freeBytes, tinyTmpfs } from './fixtures/tiny-tmpfs.js';

const run = promisify(execFile);
const PAD = 'x'.repeat(200);

t.setTimeout(120_000);
const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const gw = await createGateway({
    port: 0,
    token: 't',
    plugins: [mobyPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket: dockerd.socket } },
    healthIntervalMs: HEALTH_INTERVAL_MS,
    logger: false,
  });
  t.teardown(() => gw.close());
  const client = new LogsClient(await gw.listen(), 't');
  const engineStreams = () => (gw.engines.engineNamed('moby') as MobyEngine).openStreamCount;
  const rootDir = ((await dockerd.docker.info()) as { DockerRootDir: string }).DockerRootDir;

  // One follow of a short-lived container comes and goes first: the baseline includes what opens once.
  const warm = await runBusybox(dockerd, 'i=0; while [ $i -lt 10 ]; do echo "n $i"; i=$((i+1)); sleep 0.05; done');
  const warmWs = client.logsSocket(warm, {}, ['v1.json.enginegate']);
  await warmWs.waitForMessages(1);
  await client.get('/passthrough/engine/containers');
  await warmWs.waitClosed(10_000);
  await sleep(200);
  const fdsBefore = await openFds();

  t.test('json-file fills the disk: what is on disk, the gateway serving, nothing left open', async (t) => {
    const disk = await tinyTmpfs(t, await mkdtemp(join(dockerd.dir, 'disks-')), 1024 * 1024);
    const signals = await mkdtemp(join(dockerd.dir, 'signals-'));
    await writeFile(join(disk, 'filler'), Buffer.alloc(256 * 1024));
    // 8,000 entries (~2 MB) do not fit; then, once told, 50 more (~15 KB).
    const script =
      `p=${PAD}; i=0; while [ $i -lt 8000 ]; do echo "n $i $p"; i=$((i+1)); done; touch /s/ready; ` +
      'while [ ! -e /s/go ]; do usleep 20000; done; ' +
      'j=0; while [ $j -lt 50 ]; do echo "n $i $p"; i=$((i+1)); j=$((j+1)); done';
    const container = await dockerd.docker.createContainer({
      Image: dockerd.image,
      Cmd: ['sh', '-c', script],
      StopTimeout: 1,
      HostConfig: { NetworkMode: 'none', Binds: [`${signals}:/s`] },
    });
    const id = container.id;
    const log = join(disk, `${id}-json.log`);
    const dockerLog = join(rootDir, 'containers', id, `${id}-json.log`);
    await Promise.all([writeFile(log, ''), writeFile(dockerLog, '')]);
    await run('mount', ['--bind', log, dockerLog]);
    t.teardown(() => run('umount', ['-l', dockerLog]).catch(() => undefined));
    const began = performance.now();
    await container.start();
    const ws = client.logsSocket(id, {}, ['v1.json.enginegate']);
    t.teardown(() => ws.close());
    await waitUntil('the tmpfs to fill', async () => (await freeBytes(disk)) === 0, 30_000);
    t.comment(`disk full ${(performance.now() - began).toFixed(0)} ms after the start`);
    await waitUntil('the writer to be done with the 8,000', () => existsSync(join(signals, 'ready')), 30_000);
    const onDisk = entriesOf(await readFile(log, 'utf8'));
    await ws.waitFor(() => lineTextsOf(records(ws)).length >= onDisk.length, `the ${onDisk.length} lines on disk`);
    t.same(lineTextsOf(records(ws)), onDisk, `the follower gets the ${onDisk.length} entries on disk`);
    t.ok(onDisk.length < 8000, `lines were lost: ${8000 - onDisk.length} of 8000`);
    await stillServing(t, id, onDisk);

    await rm(join(disk, 'filler'));
    await writeFile(join(signals, 'go'), '');
    t.equal(await waitForExitCode(dockerd, id), 0, 'with space again the container wrote 50 more lines and exited');
    const more = entriesOf(await readFile(log, 'utf8')).slice(onDisk.length);
    assertConsecutive(t, numbered(more), 'n', 'on disk after the space came back');
    t.equal(numbered(more).at(-1), 'n 8049', 'to the last');
    t.comment(`docker logs after the exit: ${await dockerLogsEnds(dockerd, id)}`);
    // Known, dockerd's (20.10): its reader waits for the rest of the entry the full disk cut, so
    // the lines written later and the end never come; `docker logs -f` hangs alike.
    const close = await ws.waitClosed(3000).catch(() => undefined); // else the client gives up
    t.equal(close?.code, 1000, 'the lines written later, then 1000 at the exit', {
      todo: "dockerd's reader never gets past the entry the full disk cut",
    });
    t.comment(`the follower got ${lineTextsOf(records(ws)).length - onDisk.length} lines after the cut entry`);
    t.same(lineTextsOf(records(ws)).slice(0, onDisk.length), onDisk, 'what it got before is what is on disk');
    await assertNothingLeaked(t, gw, fdsBefore, engineStreams);
  });

  /**
   * A history request: dockerd itself does not end it while the file ends inside a cut entry
   * (`docker logs` hangs too). Meanwhile the gateway serves; the client leaving releases it.
   */
  async function stillServing(t: Test, id: string, onDisk: string[]): Promise<void> {
    const history = followNdjson(client, id, { follow: false });
    await waitUntil('the history on disk', () => lineTexts(history.records).length >= onDisk.length);
    t.same(lineTexts(history.records), onDisk, `a history request gets the ${onDisk.length} lines on disk`);
    t.comment(`docker logs of the full disk's log: ${await dockerLogsEnds(dockerd, id)}`);
    t.equal((await client.get('/passthrough/engine/containers')).status, 200, 'the container list is served');
    t.equal(gw.openStreams, 2, 'the follower and the history request are open');
    history.stop();
    await history.ended;
    await waitUntil('the history request released', () => gw.openStreams === 1, 5000);
    t.pass('the history request left: released');
  }
}

/** Whether `docker logs` (no follow) ends within 2 s. */
async function dockerLogsEnds(dockerd: PrivateDockerd, id: string): Promise<string> {
  return run('docker', ['-H', dockerd.host, 'logs', id], { timeout: 2000, maxBuffer: 64 << 20 }).then(
    ({ stdout }) => `ended, ${stdout.split('\n').length - 1} lines`,
    (err: { killed?: boolean }) => (err.killed ? 'still open after 2 s' : 'failed'),
  );
}

const records = (ws: LogSocket): JsonRecord[] => ws.jsonMessages() as JsonRecord[];
const lineTextsOf = (rs: JsonRecord[]): string[] =>
  rs.filter((r) => r['type'] === 'line').map((r) => r['line'] as string);
const numbered = (lines: string[]): string[] => lines.map((l) => l.split(' ', 2).join(' '));

/** The `log` texts of a json-file's whole entries (an entry cut by the full disk is not one). */
function entriesOf(text: string): string[] {
  const entries: string[] = [];
  for (const line of text.split('\n')) {
    try {
      entries.push((JSON.parse(line) as { log: string }).log.replace(/\n$/, ''));
    } catch {
      // cut short, or two merged: not an entry
    }
  }
  return entries;
}
