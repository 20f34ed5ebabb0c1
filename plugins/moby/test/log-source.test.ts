// The moby LogSource against a real (private) dockerd: what `open()` resolves and refuses,
// and what the records say, before any gateway is involved.
import t from 'tap';
import { createHash } from 'node:crypto';
import { decodeCursor, nowNanos, type LineRecord, type LogOptions } from '@enginegate/plugin-api';
import { MobyEngine } from '@enginegate/plugin-moby';
import { dockerdForTest, runBusybox, waitForExitCode, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { collect, lineRecords, lines, recordingLogger } from '@enginegate/test-harness/log-records';
import {
  lifecycleCases,
  tailCases,
  waitForLines as waitForLinesOf,
  type DaemonLogSource,
} from '@enginegate/test-harness/log-source-cases';

const ALL: LogOptions = { follow: false, stdout: true, stderr: true };
const FOLLOW: LogOptions = { follow: true, stdout: true, stderr: true };

// Sixteen tests against one private dockerd: about 30 s on a loaded machine, tap's default limit.
t.setTimeout(180_000);

const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const logger = recordingLogger();
  const healthReports: { ok: boolean }[] = [];
  const engine = new MobyEngine({
    config: { dockerSocket: dockerd.socket },
    logger,
    reportHealth: (h) => healthReports.push(h),
  });
  await engine.start();
  t.teardown(() => engine.stop());
  const open = (ref: string, options: LogOptions, signal = new AbortController().signal) =>
    engine.logs.open({ ref }, options, signal);

  const daemon: DaemonLogSource = {
    engine,
    logger,
    socket: dockerd.socket,
    cli: 'docker',
    namePrefix: 'egm',
    ownTail: 'Docker’s own tail counts 16 KiB pieces',
    connection: 'Docker connection',
    run: (script, options) => runBusybox(dockerd, script, options),
    remove: (id) =>
      dockerd.docker
        .getContainer(id)
        .remove({ force: true })
        .then(() => undefined),
    waitForExit: (id) => waitForExitCode(dockerd, id),
  };
  const waitForLines = (id: string, count: number) => waitForLinesOf(daemon, id, count);

  t.test('stdout and stderr stay apart, each in order, and an exit record ends a followed stream', async (t) => {
    const id = await runBusybox(
      dockerd,
      'i=1; while [ $i -le 50 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; exit 7',
    );
    const { records, ended, error } = await collect(await open(id, FOLLOW));
    t.error(error);
    t.ok(ended, 'the stream ended by itself');
    const expected = (prefix: string) => Array.from({ length: 50 }, (_, i) => `${prefix} ${i + 1}`);
    t.same(lines(records, 'stdout'), expected('out'), 'stdout lines, in order');
    t.same(lines(records, 'stderr'), expected('err'), 'stderr lines, in order');
    t.same(records.at(-1), { type: 'exit', exitCode: 7 }, 'the exit code comes last');
    for (const stream of ['stdout', 'stderr'] as const) {
      const times = lineRecords(records)
        .filter((r) => r.stream === stream)
        .map((r) => r.time!);
      t.ok(
        times.every((time, i) => i === 0 || time >= times[i - 1]!),
        `${stream} times never go back`,
      );
    }
    t.ok(lineRecords(records).every((r) => typeof r.cursor === 'string' && decodeCursor(r.cursor).kind === 'time'));
  });

  t.test('selections on a running container: follow=false, tail, since, until, one stream', async (t) => {
    const id = await runBusybox(
      dockerd,
      'i=1; while [ $i -le 10 ]; do echo "line $i"; echo "e$i" >&2; i=$((i+1)); sleep 0.02; done; sleep 600',
    );
    t.teardown(() => dockerd.docker.getContainer(id).remove({ force: true }));
    await waitForLines(id, 20);

    const all = await collect(await open(id, ALL));
    t.ok(all.ended, 'follow=false ends while the container still runs');
    t.notOk(
      all.records.some((r) => r.type === 'exit'),
      'no exit record: the container runs',
    );
    t.equal(lines(all.records, 'stdout').length, 10);

    const lastFive = lines(all.records).slice(-5);
    const tail = await collect(await open(id, { ...ALL, tail: 5 }));
    t.same(lines(tail.records), lastFive, 'tail=5: the last five lines');
    const tailOfStdout = await collect(await open(id, { ...ALL, tail: 5, stderr: false }));
    t.same(
      lines(tailOfStdout.records),
      lastFive.filter((l) => l.startsWith('line')),
      'tail counts both streams, then the selection applies (as Docker does)',
    );

    const onlyStderr = await collect(await open(id, { ...ALL, stdout: false }));
    t.same(
      lines(onlyStderr.records),
      Array.from({ length: 10 }, (_, i) => `e${i + 1}`),
      'stderr only',
    );

    const stdoutRecords = lineRecords(all.records).filter((r) => r.stream === 'stdout');
    const since = stdoutRecords[3]!.time!;
    const until = stdoutRecords[6]!.time!;
    const window = await collect(await open(id, { ...ALL, stderr: false, since, until }));
    t.same(lines(window.records), ['line 4', 'line 5', 'line 6', 'line 7'], 'since and until are inclusive');

    const sinceOnly = await collect(await open(id, { ...ALL, stderr: false, since: stdoutRecords[8]!.time! }));
    t.same(lines(sinceOnly.records), ['line 9', 'line 10']);
  });

  t.test('a TTY container: raw bytes on stdout, CRLF as Docker sends it', async (t) => {
    const id = await runBusybox(dockerd, 'echo hello; printf "col\\tumns\\n"; exit 0', { tty: true });
    const { records, ended } = await collect(await open(id, FOLLOW));
    t.ok(ended);
    t.same(
      lineRecords(records).map((r) => [r.stream, r.line.toString('latin1')]),
      [
        ['stdout', 'hello\r'],
        ['stdout', 'col\tumns\r'],
      ],
      'each line keeps the \\r the TTY added; the \\n is the line end',
    );
    t.same(records.at(-1), { type: 'exit', exitCode: 0 });
  });

  t.test('a 100 KiB line is one line; bytes that are not UTF-8 arrive exactly', async (t) => {
    const script =
      'head -c 102400 /dev/zero | tr "\\0" x; echo; ' +
      'printf "\\377\\376\\200 bin\\001\\033[31mred\\n"; printf "caf\\303\\251 \\342\\202\\254\\n"';
    // json-file stores lines as JSON strings and so replaces invalid UTF-8 with U+FFFD: only the
    // `local` driver keeps arbitrary bytes for Docker to give back.
    const plain = await runBusybox(dockerd, script, { logDriver: 'local' });
    // (json-file here: Docker 20.10's `local` driver loses the newline after a long TTY line.)
    const tty = await runBusybox(dockerd, script, { tty: true });
    const expectedBytes = Buffer.concat([
      Buffer.alloc(102400, 'x'),
      Buffer.from('\n'),
      Buffer.from([0xff, 0xfe, 0x80, 0x20, 0x62, 0x69, 0x6e, 0x01, 0x1b]),
      Buffer.from('[31mred\n'),
      Buffer.from('café €\n'),
    ]);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

    const { records } = await collect(await open(plain, FOLLOW));
    const got = lineRecords(records);
    t.equal(got.length, 3, 'three lines, the long one whole');
    t.equal(got[0]!.line.length, 102400);
    t.notOk(got[0]!.partial, 'not a cut piece');
    t.equal(new Set(got.map((r) => r.time)).size, 3, 'each line has its own time');
    const delivered = Buffer.concat(got.flatMap((r) => [r.line, Buffer.from('\n')]));
    t.equal(sha(delivered), sha(expectedBytes), 'SHA-256 of what was written equals that of what was delivered');

    const ttyLines = lineRecords((await collect(await open(tty, FOLLOW))).records);
    t.equal(ttyLines.length, 3, 'TTY: three lines too, Docker’s 16 KiB piece stamps dropped');
    t.equal(ttyLines[0]!.line.length, 102401, 'the long TTY line: 100 KiB plus its \\r');
    t.ok(ttyLines[0]!.line.subarray(0, 102400).equals(Buffer.alloc(102400, 'x')), 'no timestamp inside');
  });

  tailCases(t, daemon);

  t.test('until ends a followed stream: every line up to it, nothing after', async (t) => {
    const id = await runBusybox(dockerd, 'while true; do echo tick; sleep 0.05; done');
    t.teardown(() => dockerd.docker.getContainer(id).remove({ force: true }));
    await waitForLines(id, 2);
    const until = nowNanos() + 500_000_000n;
    const started = Date.now();
    const { records, ended } = await collect(await open(id, { ...FOLLOW, until }), { timeoutMs: 5000 });
    t.ok(ended, 'the stream ended by itself');
    t.ok(Date.now() - started < 2500, 'soon after until');
    const times = lineRecords(records).map((r) => r.time!);
    t.ok(times.length >= 5, 'lines before until arrived');
    t.ok(
      times.every((time) => time <= until),
      'none after until',
    );
    t.notOk(
      records.some((r) => r.type === 'exit'),
      'no exit record: the container runs',
    );
    // Nothing between the last line delivered and until was lost.
    const all = lineRecords((await collect(await open(id, ALL))).records).filter((r) => r.time! <= until);
    t.same(
      times,
      all.map((r) => r.time),
      'exactly the lines stamped up to until',
    );

    const past = await collect(await open(id, { ...FOLLOW, until: times[2]! }), { timeoutMs: 5000 });
    t.ok(past.ended, 'an until already past: the history up to it, then the end');
    t.equal(lineRecords(past.records).length, 3);
  });

  t.test('the local driver: a long last line arrives while the container still runs', async (t) => {
    const id = await runBusybox(dockerd, 'head -c 40000 /dev/zero | tr "\\0" L; echo; sleep 600', {
      logDriver: 'local',
    });
    t.teardown(() => dockerd.docker.getContainer(id).remove({ force: true }));
    const { records } = await collect(await open(id, FOLLOW), { stop: (r) => r.length > 0, timeoutMs: 10_000 });
    t.same(
      lineRecords(records).map((r) => [r.line.length, r.partial ?? false]),
      [[40000, false]],
      'one whole line, though Docker gave back its last piece without the newline',
    );
  });

  t.test('after= resumes exactly behind any record, also among records sharing a time', async (t) => {
    // A 2.5 MiB line: Docker stamps its 16 KiB pieces alike; cut at 1 MiB it is three records
    // with one time. Then short lines.
    const id = await runBusybox(
      dockerd,
      'echo first; head -c 2621440 /dev/zero | tr "\\0" y; echo; i=1; while [ $i -le 5 ]; do echo "after $i"; i=$((i+1)); done',
    );
    await waitForExitCode(dockerd, id);
    const full = lineRecords((await collect(await open(id, ALL))).records);
    const sharing = full.filter((r) => r.time === full[1]!.time);
    t.equal(sharing.length, 3, 'three records share the long line’s time');
    t.same(
      full.map((r) => r.line.length),
      [5, 1048576, 1048576, 524288, 7, 7, 7, 7, 7],
    );

    const describe = (r: LineRecord) => `${r.cursor}:${r.line.length}`;
    for (let i = 0; i < full.length; i++) {
      const resumed = lineRecords(
        (await collect(await open(id, { ...ALL, tail: 1, after: decodeCursor(full[i]!.cursor) }))).records,
      );
      t.same(
        resumed.map(describe),
        full.slice(i + 1).map(describe),
        `after record ${i}: nothing twice, nothing missing`,
      );
    }
    const resumedFollow = await collect(await open(id, { ...FOLLOW, after: decodeCursor(full[2]!.cursor) }));
    t.same(resumedFollow.records.at(-1), { type: 'exit', exitCode: 0 }, 'following from a cursor ends with the exit');
  });

  lifecycleCases(t, daemon);

  t.test('containers() lists running and stopped containers with their TTY flag and labels', async (t) => {
    const labels = { 'com.docker.compose.project': 'egm', 'com.docker.compose.service': 'web' };
    const running = await runBusybox(dockerd, 'sleep 600', { name: 'egm-list-running', tty: true, labels });
    t.teardown(() => dockerd.docker.getContainer(running).remove({ force: true }));
    const stopped = await runBusybox(dockerd, 'exit 0', { name: 'egm-list-stopped' });
    await waitForExitCode(dockerd, stopped);
    const list = await engine.containers();
    const byName = new Map(list.map((c) => [c.names[0], c]));
    t.match(byName.get('egm-list-running'), { id: running, state: 'running', tty: true, image: dockerd.image });
    t.same(byName.get('egm-list-running')!.labels, labels);
    t.match(byName.get('egm-list-stopped'), { id: stopped, state: 'exited', tty: false });
    t.same(byName.get('egm-list-stopped')!.labels, {}, 'no labels: an empty object');
    t.ok(!Number.isNaN(Date.parse(byName.get('egm-list-running')!.createdAt)), 'createdAt is a time');
  });

  t.test('health follows the daemon', async (t) => {
    t.same(await engine.health(), { ok: true });
    t.same(healthReports, [], 'nothing reported while all is well');
  });
}
