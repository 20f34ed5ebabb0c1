// A containerd log on a tiny tmpfs (1 MiB) that its writer fills to ENOSPC while a WebSocket
// follows it: a shim's `ctr --log-uri file://` log (the shim stops copying at the first failed
// write, so the task then blocks on its full pipe) and a nerdctl-style json-file log (its logger
// loses each entry that does not fit and goes on, as Docker's json-file does). Each client gets
// what is on disk, a gap saying lines may be lost, and a clear end at the task's exit; the
// gateway serves other requests meanwhile; nothing is left open.
import t, { type Test } from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerdForTest, runNerdctlStyleTask, uniqueId } from '@enginegate/test-harness/containerd';
import type { LogSocket } from '@enginegate/test-client';
import { containerdGateway } from './fixtures/containerd-gateway.js';
import {
  assertConsecutive,
  assertNothingLeaked,
  openFds,
  waitUntil,
  type JsonRecord,
} from './fixtures/fault-support.js';
import { freeBytes, tinyTmpfs } from './fixtures/tiny-tmpfs.js';

const DISK_BYTES = 1024 * 1024;
/** ~200 bytes a line: a few thousand lines fill the disk (each a WebSocket message). */
const PAD = 'x'.repeat(200);
/** The gap must come this soon after the disk filled (a poll or two, on a loaded machine). */
const GAP_BOUND_MS = 3000;

t.setTimeout(120_000);
const cd = await containerdForTest(t);
if (cd) {
  // The log root of the tiny disks, one per case.
  const disks = await mkdtemp(join(cd.dir, 'disks-'));
  const { gw, client, engine } = await containerdGateway(cd, [cd.logDir, disks]);
  t.teardown(() => gw.close());
  let fdsBefore = 0;
  const leakCheck = (t: Test) => assertNothingLeaked(t, gw, fdsBefore, () => engine().resources.openStreams);

  /** Waits for the disk to be full and the follower's gap; says how long each took. */
  async function diskFullAndGap(t: Test, disk: string, ws: LogSocket, began: number): Promise<number> {
    await waitUntil('the tmpfs to fill', async () => (await freeBytes(disk)) === 0, 30_000);
    const fullAt = performance.now();
    let scanned = 0;
    const gapIn = (m: { data: Buffer }[]) => {
      for (; scanned < m.length; scanned++) if (m[scanned]!.data.toString().startsWith('{"type":"gap"')) return true;
      return false;
    };
    await ws.waitFor(gapIn, 'a gap record', GAP_BOUND_MS + 5000);
    const gapMs = performance.now() - fullAt;
    t.comment(`disk full ${(fullAt - began).toFixed(0)} ms after the start, the gap ${gapMs.toFixed(0)} ms later`);
    t.ok(gapMs < GAP_BOUND_MS, `the gap within ${GAP_BOUND_MS} ms of the disk filling: ${gapMs.toFixed(0)} ms`);
    const gapAt = records(ws).findIndex((r) => r['type'] === 'gap');
    t.match(records(ws)[gapAt], { type: 'gap', reason: /full/ }, 'the gap says the disk is full');
    return gapAt;
  }

  /** Meanwhile the gateway serves: the container list, and the same log's history. */
  async function stillServing(t: Test, name: string, expected: string[]): Promise<void> {
    const list = await client.get('/passthrough/engine/containers');
    t.equal(list.status, 200, 'the container list is served');
    // Not fetch: its keep-alive pool would hold descriptors past the leak check.
    const history = await client.get(`/passthrough/engine/logs/${name}?follow=false`);
    t.equal(history.status, 200, 'a history request is served');
    const lines = history.body.toString().split('\n').slice(0, expected.length);
    t.same(lines, expected, `the history holds the ${expected.length} lines on disk`);
  }

  // A live follow opens the loop's one inotify descriptor, kept for good: it belongs in the baseline.
  t.test('warm-up: one follow comes and goes', async () => {
    const name = uniqueId('warm');
    await runNerdctlStyleTask(cd, name, 'i=0; while [ $i -lt 10 ]; do echo "n $i"; i=$((i+1)); sleep 0.05; done');
    const ws = client.logsSocket(name, {}, ['v1.json.enginegate']);
    await ws.waitForMessages(1);
    await client.get('/passthrough/engine/containers');
    await ws.waitClosed(10_000);
    await sleep(200);
    fdsBefore = await openFds();
  });

  t.test('a file:// log fills the disk: what is on disk, a gap; killed: exit and 1000', async (t) => {
    const disk = await tinyTmpfs(t, disks, DISK_BYTES);
    const name = uniqueId('full-raw');
    const log = join(disk, `${name}.log`);
    const began = performance.now();
    await cd.runTask({ id: name, logUri: `file://${log}`, script: fillScript });
    const ws = client.logsSocket(name, {}, ['v1.json.enginegate']);
    t.teardown(() => ws.close());
    const gapAt = await diskFullAndGap(t, disk, ws, began);
    const onDisk = (await readFile(log, 'utf8')).split('\n');
    const cutLine = onDisk.pop()!; // the write that did not fit ended mid-line
    const beforeGap = lineTextsOf(records(ws).slice(0, gapAt));
    t.same(beforeGap, onDisk, `before the gap: the ${onDisk.length} whole lines on disk`);
    assertConsecutive(t, numbered(beforeGap), 'fill', 'on disk');
    await stillServing(t, name, onDisk);

    await cd.ctr(['-n', cd.namespace, 'task', 'kill', '-s', 'SIGKILL', name]);
    const killedAt = performance.now();
    const close = await ws.waitClosed(15_000);
    t.equal(close.code, 1000, `closed 1000 ${(performance.now() - killedAt).toFixed(0)} ms after the kill`);
    const after = records(ws).slice(gapAt + 1);
    t.match(after.at(-1), { type: 'exit', exitCode: 137 }, 'the exit record comes last');
    const rest = after.filter((r) => r['type'] === 'line');
    t.same(
      rest.map((r) => [r['line'], r['partial']]),
      cutLine === '' ? [] : [[cutLine, true]],
      'after the gap only the cut last line, marked partial',
    );
    await leakCheck(t);
  });

  t.test('a json-file log fills the disk: a gap; space again: the lines after it, then exit 1000', async (t) => {
    const disk = await tinyTmpfs(t, disks, DISK_BYTES);
    const filler = join(disk, 'filler');
    await writeFile(filler, Buffer.alloc(256 * 1024));
    const name = uniqueId('full-json');
    const [ready, go] = [join(cd.rootfs, `ready-${name}`), join(cd.rootfs, `go-${name}`)];
    t.teardown(() => Promise.all([rm(ready, { force: true }), rm(go, { force: true })]));
    // 8,000 entries (~2 MB) do not fit; then, once told, 50 more (~15 KB).
    const script =
      `p=${PAD}; i=0; while [ $i -lt 8000 ]; do echo "n $i $p"; i=$((i+1)); done; touch /ready-${name}; ` +
      `while [ ! -e /go-${name} ]; do usleep 20000; done; ` +
      'j=0; while [ $j -lt 50 ]; do echo "n $i $p"; i=$((i+1)); j=$((j+1)); done';
    const log = join(disk, `${name}-json.log`);
    const began = performance.now();
    await runNerdctlStyleTask(cd, name, script, {}, { 'log-path': log });
    const ws = client.logsSocket(name, {}, ['v1.json.enginegate']);
    t.teardown(() => ws.close());
    const gapAt = await diskFullAndGap(t, disk, ws, began);
    const onDisk = entriesOf(await readFile(log, 'utf8'));
    const beforeGap = lineTextsOf(records(ws).slice(0, gapAt));
    t.same(beforeGap, onDisk, `before the gap: the ${onDisk.length} entries on disk`);
    assertConsecutive(t, numbered(beforeGap), 'n', 'on disk');
    t.ok(onDisk.length < 8000, `lines were lost: ${8000 - onDisk.length} of 8000`);
    await stillServing(t, name, onDisk);

    await waitUntil('the writer to be done with the 8,000', () => existsSync(ready));
    await rm(filler);
    await writeFile(go, '');
    const close = await ws.waitClosed(20_000);
    t.equal(close.code, 1000, 'closed 1000 at the exit');
    t.match(records(ws).at(-1), { type: 'exit', exitCode: 0 }, 'the exit record comes last');
    t.notOk(
      records(ws)
        .slice(gapAt + 1)
        .some((r) => r['type'] === 'gap'),
      'no second gap: the disk did not fill again',
    );
    const afterGap = lineTextsOf(records(ws).slice(gapAt + 1));
    const wholeLog = entriesOf(await readFile(log, 'utf8'));
    t.same(afterGap, wholeLog.slice(onDisk.length), 'after the gap: the entries written once there was space');
    assertConsecutive(t, numbered(afterGap), 'n', 'after the gap');
    t.equal(numbered(afterGap).at(-1), 'n 8049', 'to the last one');
    await leakCheck(t);
  });
}

/** A fast writer for the shim's file:// log: enough to fill the disk, then one line every 20 ms. */
const fillScript =
  `p=${PAD}; i=0; while true; do echo "fill $i $p"; i=$((i+1)); ` + '[ $i -gt 10000 ] && usleep 20000; done';

/** `<word> <n>` of each padded line. */
const numbered = (lines: string[]): string[] => lines.map((l) => l.split(' ', 2).join(' '));

function records(ws: LogSocket): JsonRecord[] {
  return ws.jsonMessages() as JsonRecord[];
}

function lineTextsOf(rs: JsonRecord[]): string[] {
  return rs.filter((r) => r['type'] === 'line').map((r) => r['line'] as string);
}

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
