// Faults of the log file a containerd follower reads (a nerdctl-style json-file log written by
// the harness's logger for a real task): the file deleted, truncated, and rotated ~100 times a
// second. Each client gets every line written once, or a gap saying what happened, and a clear
// end — never silence — and nothing is left open.
import t, { type Test } from 'tap';
import { watch } from 'node:fs';
import { readdir, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerdForTest, runNerdctlStyleTask, uniqueId } from '@enginegate/test-harness/containerd';
import { containerdGateway } from './fixtures/containerd-gateway.js';
import {
  assertConsecutive,
  assertNothingLeaked,
  openFds,
  socketLines,
  type JsonRecord,
} from './fixtures/fault-support.js';

t.setTimeout(120_000);
const cd = await containerdForTest(t);
if (cd) {
  const { gw, client, engine } = await containerdGateway(cd);
  t.teardown(() => gw.close());
  const stateDir = (id: string) => join(cd.logDir, 'nerdctl', 'named0000', 'containers', cd.namespace, id);
  const logOf = (id: string) => join(stateDir(id), `${id}-json.log`);
  const ticker = (count: number) => `i=0; while [ $i -lt ${count} ]; do echo "n $i"; i=$((i+1)); sleep 0.02; done`;
  let fdsBefore = 0;

  async function followed(name: string, t: Test) {
    const ws = client.logsSocket(name, {}, ['v1.json.enginegate']);
    await ws.waitForMessages(5);
    t.teardown(() => ws.close());
    return ws;
  }

  t.test('warm-up: one follow comes and goes', async () => {
    const name = uniqueId('warm');
    await runNerdctlStyleTask(cd, name, ticker(10));
    const ws = await followed(name, t);
    await ws.waitClosed(10_000);
    await sleep(200);
    // libuv keeps one inotify descriptor from the process's first fs.watch on; a follow that
    // began after this short task exited never watched (seen: every later check 1 over).
    watch(cd.logDir).close();
    fdsBefore = await openFds();
  });

  t.test('deleted while followed: the lines written after it still arrive, then the exit', async (t) => {
    const name = uniqueId('deleted');
    const id = await runNerdctlStyleTask(cd, name, ticker(100));
    const ws = await followed(name, t);
    await rm(logOf(id));
    const deletedAt = performance.now();
    const close = await ws.waitClosed(15_000);
    t.equal(
      close.code,
      1000,
      `closed 1000 at the task's exit, ${(performance.now() - deletedAt).toFixed(0)} ms after the delete`,
    );
    const records = ws.jsonMessages() as JsonRecord[];
    t.match(records.at(-1), { type: 'exit', exitCode: 0 }, 'the exit record comes last');
    assertConsecutive(t, socketLines(ws), 'n', 'read through the open descriptor');
    t.equal(socketLines(ws).length, 100, 'every line written, before and after the delete');
    await assertNothingLeaked(t, gw, fdsBefore, () => engine().resources.openStreams);
  });

  t.test('truncated while followed: a gap, then the lines written after it', async (t) => {
    const name = uniqueId('truncated');
    const id = await runNerdctlStyleTask(cd, name, ticker(150));
    const ws = await followed(name, t);
    await truncate(logOf(id), 0);
    const truncatedAt = performance.now();
    await ws.waitFor((m) => m.some((x) => x.data.toString().includes('"gap"')), 'a gap record', 5000);
    const gapMs = performance.now() - truncatedAt;
    t.ok(gapMs < 2000, `the gap within 2 s: ${gapMs.toFixed(0)} ms`);
    const close = await ws.waitClosed(15_000);
    t.equal(close.code, 1000, 'closed 1000 at the exit');
    const records = ws.jsonMessages() as JsonRecord[];
    const gapAt = records.findIndex((r) => r['type'] === 'gap');
    t.match(records[gapAt], { type: 'gap', reason: /truncated/ });
    const before = records
      .slice(0, gapAt)
      .filter((r) => r['type'] === 'line')
      .map((r) => r['line'] as string);
    const after = records
      .slice(gapAt)
      .filter((r) => r['type'] === 'line')
      .map((r) => r['line'] as string);
    assertConsecutive(t, before, 'n', 'before the gap');
    assertConsecutive(t, after, 'n', 'after the gap');
    t.ok(after.length > 0 && after.at(-1) === 'n 149', 'the lines after the truncation, to the last');
    const firstAfter = Number(after[0]!.slice(2));
    const lastBefore = Number(before.at(-1)!.slice(2));
    t.ok(firstAfter > lastBefore, `nothing repeated across the gap (n ${lastBefore} … n ${firstAfter})`);
    await assertNothingLeaked(t, gw, fdsBefore, () => engine().resources.openStreams);
  });

  t.test('rotated ~100 times a second: every line once, in order, no descriptor left', async (t) => {
    const name = uniqueId('rotated');
    const count = 4000;
    // ~20 lines a file; 5 ms pauses every 25 lines: ~100 rotations a second.
    const script = `i=0; while [ $i -lt ${count} ]; do echo "n $i"; i=$((i+1)); [ $((i % 25)) = 0 ] && usleep 5000; done`;
    const taskId = await runNerdctlStyleTask(cd, name, script, {}, { 'max-size': '1500', 'max-file': '10000' });
    const began = performance.now();
    const ws = client.logsSocket(name, {}, ['v1.json.enginegate']);
    const close = await ws.waitClosed(60_000);
    const seconds = (performance.now() - began) / 1000;
    const files = (await readdir(stateDir(taskId))).filter((f) => f.includes('-json.log.')).length;
    t.comment(`${files} rotations in ~${seconds.toFixed(1)} s (${(files / seconds).toFixed(0)}/s)`);
    t.ok(files / seconds > 50, 'rotated more than 50 times a second');
    t.equal(close.code, 1000, 'closed 1000 at the exit');
    const records = ws.jsonMessages() as JsonRecord[];
    const gaps = records.filter((r) => r['type'] === 'gap');
    t.same(gaps, [], 'no gap: every file was kept');
    t.equal(socketLines(ws).length, count, `all ${count} lines`);
    const seen = socketLines(ws);
    const eachOnce = [...seen].sort((a, b) => Number(a.slice(2)) - Number(b.slice(2)));
    assertConsecutive(t, eachOnce, 'n', 'sorted, across the rotations');
    assertConsecutive(t, seen, 'n', 'in order, across the rotations');
    await assertNothingLeaked(t, gw, fdsBefore, () => engine().resources.openStreams);
  });
}
