// The LogSource cases that hold alike for the engines on a Docker-style API (moby on dockerd,
// podman on its service), each against the suite's own private daemon.
import type { Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AmbiguousContainerError,
  ContainerNotFoundError,
  InvalidArgumentError,
  LogsUnsupportedError,
  type LineRecord,
  type LogOptions,
  type LogSource,
} from '@enginegate/plugin-api';
import { collect, connectionsTo, lineRecords, lines, type recordingLogger } from './log-records.js';

const ALL: LogOptions = { follow: false, stdout: true, stderr: true };
const FOLLOW: LogOptions = { follow: true, stdout: true, stderr: true };

/** An engine started on a private daemon, and how its suite drives that daemon. */
export interface DaemonLogSource {
  engine: { logs: LogSource; readonly openStreamCount: number };
  /** The engine's logger: a client's mistakes must not be warnings. */
  logger: ReturnType<typeof recordingLogger>;
  /** The daemon's socket, whose connections the abort case counts. */
  socket: string;
  /** The daemon's command, in case names: `docker`, `podman`. */
  cli: string;
  /** The harness's container-name prefix: `egm`, `egp`. */
  namePrefix: string;
  /** What the daemon's own tail counts, in a case name: `Docker’s own tail counts 16 KiB pieces`. */
  ownTail: string;
  /** The engine's link to the daemon, in a case name: `Docker connection`. */
  connection: string;
  run(script: string, options?: { name?: string; start?: boolean; logDriver?: string }): Promise<string>;
  remove(id: string): Promise<void>;
  waitForExit(id: string): Promise<number>;
}

/** Waits until the container's log has `count` lines (the daemon writes them asynchronously). */
export async function waitForLines(d: DaemonLogSource, id: string, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const got = await collect(await open(d, id, ALL));
    if (lineRecords(got.records).length >= count) return;
    await sleep(50);
  }
  throw new Error(`container ${id} never wrote ${count} lines`);
}

function open(d: DaemonLogSource, ref: string, options: LogOptions, signal = new AbortController().signal) {
  return d.engine.logs.open({ ref }, options, signal);
}

/** tail=N on a container that keeps writing, and tail counted in whole lines, not the daemon's pieces. */
export function tailCases(t: Test, d: DaemonLogSource): void {
  t.test('tail=N with follow=false gives exactly N lines while the container keeps writing', async (t) => {
    const id = await d.run('i=1; while true; do echo "busy $i"; i=$((i+1)); usleep 2000; done');
    t.teardown(() => d.remove(id));
    await waitForLines(d, id, 50);
    for (const tail of [1, 3, 10]) {
      for (let round = 0; round < 3; round++) {
        const got = lines((await collect(await open(d, id, { ...ALL, tail }))).records);
        t.equal(got.length, tail, `tail=${tail}, round ${round + 1}: ${got.length} lines`);
        const numbers = got.map((l) => Number(l.split(' ')[1]));
        t.ok(
          numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1),
          'consecutive lines',
        );
      }
    }
  });

  t.test(`tail counts whole lines, though ${d.ownTail}`, async (t) => {
    const id = await d.run('echo one; head -c 40000 /dev/zero | tr "\\0" T; echo; echo three; echo four');
    await d.waitForExit(id);
    const describe = (r: LineRecord) => `${r.line.length}:${r.line.subarray(0, 5).toString()}`;
    const full = lineRecords((await collect(await open(d, id, ALL))).records);
    for (const tail of [1, 2, 3, 4, 5]) {
      const got = lineRecords((await collect(await open(d, id, { ...ALL, tail }))).records);
      t.same(got.map(describe), full.slice(-tail).map(describe), `tail=${tail}`);
      t.same(
        got.map((r) => r.cursor),
        full.slice(-tail).map((r) => r.cursor),
        `tail=${tail}: the same cursors as a full read`,
      );
    }
    const followed = await collect(await open(d, id, { ...FOLLOW, tail: 2 }));
    t.same(lines(followed.records), ['three', 'four']);
    t.same(followed.records.at(-1), { type: 'exit', exitCode: 0 });
  });
}

/** A followed exit and removal, references and their refusals, a log driver that keeps nothing, an abort. */
export function lifecycleCases(t: Test, d: DaemonLogSource): void {
  endCases(t, d);
  refusalCases(t, d);
  abortCase(t, d);
}

function endCases(t: Test, d: DaemonLogSource): void {
  t.test('a followed container that exits: its last line, then the exit code, then the end', async (t) => {
    const id = await d.run('echo one; sleep 0.3; echo two; sleep 0.3; echo last; exit 3');
    const { records, ended } = await collect(await open(d, id, FOLLOW));
    t.ok(ended);
    t.same(
      records.map((r) => (r.type === 'line' ? r.line.toString() : r)),
      ['one', 'two', 'last', { type: 'exit', exitCode: 3 }],
    );
  });

  t.test(`${d.cli} rm -f while followed: the stream ends cleanly`, async (t) => {
    const id = await d.run('i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.1; done');
    const iterable = await open(d, id, FOLLOW);
    const started = Date.now();
    setTimeout(() => void d.remove(id), 500);
    const { records, ended, error } = await collect(iterable, { timeoutMs: 10_000 });
    t.error(error, 'nothing thrown');
    t.ok(ended, 'ended by itself');
    t.ok(Date.now() - started < 5000, 'soon after the removal');
    t.ok(lines(records).length >= 2, 'lines before the removal arrived');
    t.notOk(
      records.some((r) => r.type === 'error'),
      'no error record',
    );
  });
}

function refusalCases(t: Test, d: DaemonLogSource): void {
  t.test('references: full ID, unique prefix, name; unknown 404, ambiguous 409, bad 400', async (t) => {
    const id = await d.run('echo named', { name: `${d.namePrefix}-named` });
    await d.waitForExit(id);
    for (const ref of [id, id.slice(0, 12), `${d.namePrefix}-named`]) {
      t.same(lines((await collect(await open(d, ref, ALL))).records), ['named'], `by ${ref === id ? 'full ID' : ref}`);
    }
    await t.rejects(open(d, `${d.namePrefix}-no-such-container`, ALL), ContainerNotFoundError);
    await t.rejects(open(d, '../etc', ALL), InvalidArgumentError);
    // 17 containers: two of them share a first hex digit.
    const created = await Promise.all(Array.from({ length: 17 }, () => d.run('true', { start: false })));
    t.teardown(() => Promise.all(created.map((c) => d.remove(c))));
    const byDigit = new Map<string, number>();
    for (const c of created) byDigit.set(c[0]!, (byDigit.get(c[0]!) ?? 0) + 1);
    const shared = [...byDigit].find(([, n]) => n >= 2)![0];
    const err = await open(d, shared, ALL).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, AmbiguousContainerError, 'an ambiguous prefix');
    t.equal((err as AmbiguousContainerError).statusCode, 409);
    t.ok((err as AmbiguousContainerError).candidates.length >= 2, 'names the candidates');
    t.ok(
      d.logger.entries.every((e) => e.level !== 'warn' && e.level !== 'error'),
      'client mistakes are not warnings',
    );
  });

  t.test('the "none" log driver is 501 before anything is streamed', async (t) => {
    const id = await d.run('echo lost', { logDriver: 'none' });
    const err = await open(d, id, ALL).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, LogsUnsupportedError);
    t.equal((err as LogsUnsupportedError).statusCode, 501);
  });
}

function abortCase(t: Test, d: DaemonLogSource): void {
  t.test(`aborting the signal releases the ${d.connection} at once`, async (t) => {
    const id = await d.run('while true; do echo busy; sleep 0.05; done');
    t.teardown(() => d.remove(id));
    await waitForLines(d, id, 1);
    const controller = new AbortController();
    const iterable = await open(d, id, FOLLOW, controller.signal);
    const iterator = iterable[Symbol.asyncIterator]();
    t.ok(!(await iterator.next()).done, 'a batch arrived');
    // Nothing else talks to the daemon from here on: the stream's connection is one of these.
    const during = await connectionsTo(d.socket);
    controller.abort();
    let after = await connectionsTo(d.socket);
    for (let i = 0; i < 40 && after >= during; i++) {
      await sleep(25);
      after = await connectionsTo(d.socket);
    }
    t.ok(after < during, `the stream's connection is closed (${during} before the abort, ${after} after)`);
    t.equal(d.engine.openStreamCount, 0, 'the engine holds no stream');
    const next = await iterator.next().catch((e: unknown) => e);
    t.same(next, { done: true, value: undefined }, 'the iterable ends quietly');

    // An iterable that is never pulled is released by the abort too.
    const unread = new AbortController();
    await open(d, id, FOLLOW, unread.signal);
    t.equal(d.engine.openStreamCount, 1);
    unread.abort();
    t.equal(d.engine.openStreamCount, 0);
  });
}
