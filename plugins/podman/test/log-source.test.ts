// The podman LogSource against a real (private) `podman system service`: what `open()`
// resolves and refuses, and what the records say, before any gateway is involved.
import t from 'tap';
import { createHash } from 'node:crypto';
import { NS_PER_S, decodeCursor, nowNanos, type LineRecord, type LogOptions } from '@enginegate/plugin-api';
import { PodmanEngine, type PodmanContainerInfo, type PodmanPodInfo } from '@enginegate/plugin-podman';
import { collect, lineRecords, lines, recordingLogger } from '@enginegate/test-harness/log-records';
import {
  createPod,
  podmanForTest,
  runBusybox,
  waitForExitCode,
  type PrivatePodman,
} from '@enginegate/test-harness/podman';
import {
  lifecycleCases,
  tailCases,
  waitForLines as waitForLinesOf,
  type DaemonLogSource,
} from '@enginegate/test-harness/log-source-cases';

const ALL: LogOptions = { follow: false, stdout: true, stderr: true };
const FOLLOW: LogOptions = { follow: true, stdout: true, stderr: true };

t.setTimeout(300_000);
const podman = await podmanForTest(t);
if (podman) await suite(podman);

async function suite(podman: PrivatePodman): Promise<void> {
  const logger = recordingLogger();
  const healthReports: { ok: boolean }[] = [];
  const engine = new PodmanEngine({
    config: { podmanSocket: podman.socket },
    logger,
    reportHealth: (h) => healthReports.push(h),
  });
  await engine.start();
  t.teardown(() => engine.stop());
  const open = (ref: string, options: LogOptions, signal = new AbortController().signal) =>
    engine.logs.open({ ref }, options, signal);
  const remove = (id: string) => podman.podman(['rm', '--force', '--time=0', id]).then(() => undefined);

  const daemon: DaemonLogSource = {
    engine,
    logger,
    socket: podman.socket,
    cli: 'podman',
    namePrefix: 'egp',
    ownTail: 'Podman’s own tail counts 8 KiB pieces',
    connection: 'connection to the service',
    run: (script, options) => runBusybox(podman, script, options),
    remove,
    waitForExit: (id) => waitForExitCode(podman, id),
  };
  const waitForLines = (id: string, count: number) => waitForLinesOf(daemon, id, count);

  t.test('stdout and stderr stay apart, each in order, and an exit record ends a followed stream', async (t) => {
    const id = await runBusybox(
      podman,
      'i=1; while [ $i -le 50 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; exit 7',
    );
    const { records, ended, error } = await collect(await open(id, FOLLOW));
    t.error(error);
    t.ok(ended, 'the stream ended by itself');
    const expected = (prefix: string) => Array.from({ length: 50 }, (_, i) => `${prefix} ${i + 1}`);
    t.same(lines(records, 'stdout'), expected('out'), 'stdout lines, in order');
    t.same(lines(records, 'stderr'), expected('err'), 'stderr lines, in order');
    t.same(records.at(-1), { type: 'exit', exitCode: 7 }, 'the exit code comes last');
    const times = lineRecords(records).map((r) => r.time!);
    t.ok(
      times.every((time, i) => time % NS_PER_S === 0n && (i === 0 || time >= times[i - 1]!)),
      'times are whole seconds (Podman 4’s) and never go back',
    );
    t.ok(
      lineRecords(records).every((r) => decodeCursor(r.cursor).kind === 'time'),
      'time cursors',
    );
  });

  t.test('selections on a running container: follow=false, tail, since, until, one stream', async (t) => {
    const id = await runBusybox(
      podman,
      'i=1; while [ $i -le 10 ]; do echo "line $i"; echo "e$i" >&2; i=$((i+1)); sleep 0.3; done; sleep 600',
    );
    t.teardown(() => remove(id));
    await waitForLines(id, 20);

    const all = await collect(await open(id, ALL));
    t.ok(all.ended, 'follow=false ends while the container still runs');
    t.notOk(
      all.records.some((r) => r.type === 'exit'),
      'no exit record: the container runs',
    );
    t.equal(lines(all.records, 'stdout').length, 10);
    const lastFive = lines(all.records).slice(-5);
    t.same(
      lines((await collect(await open(id, { ...ALL, tail: 5 }))).records),
      lastFive,
      'tail=5: the last five lines',
    );
    t.same(
      lines((await collect(await open(id, { ...ALL, tail: 5, stderr: false }))).records),
      lastFive.filter((l) => l.startsWith('line')),
      'tail counts both streams, then the selection applies (as Docker does)',
    );
    t.same(
      lines((await collect(await open(id, { ...ALL, stdout: false }))).records),
      Array.from({ length: 10 }, (_, i) => `e${i + 1}`),
      'stderr only',
    );

    // Whole seconds: since/until select by the second a record shows, both inclusive.
    const records = lineRecords(all.records);
    const seconds = [...new Set(records.map((r) => r.time!))];
    t.ok(seconds.length >= 3, `the lines span ${seconds.length} seconds`);
    const since = seconds[1]!;
    const until = seconds.at(-2)!;
    const window = await collect(await open(id, { ...ALL, since, until: until + 999_999_999n }));
    t.same(
      lineRecords(window.records).map((r) => r.cursor),
      records.filter((r) => r.time! >= since && r.time! <= until).map((r) => r.cursor),
      'since and until are inclusive, by the records’ own (whole-second) times',
    );
    const halfway = await collect(await open(id, { ...ALL, since: since + 500_000_000n }));
    t.same(
      lineRecords(halfway.records).map((r) => r.cursor),
      records.filter((r) => r.time! > since).map((r) => r.cursor),
      'a since inside a second leaves that second’s records out (their time is before it)',
    );
  });

  t.test('a TTY container: its output on stdout, CRLF as the terminal wrote it', async (t) => {
    const id = await runBusybox(podman, 'echo hello; printf "col\\tumns\\n"; echo err >&2; exit 0', { tty: true });
    const { records, ended } = await collect(await open(id, FOLLOW));
    t.ok(ended);
    t.same(
      lineRecords(records).map((r) => [r.stream, r.line.toString('latin1')]),
      [
        ['stdout', 'hello\r'],
        ['stdout', 'col\tumns\r'],
        ['stdout', 'err\r'],
      ],
      'each line keeps the \\r the TTY added; the \\n is the line end',
    );
    t.same(records.at(-1), { type: 'exit', exitCode: 0 });
  });

  t.test(
    'a 100 KiB line is one line (conmon writes 8 KiB pieces); bytes that are not UTF-8 arrive exactly',
    async (t) => {
      const script =
        'head -c 102400 /dev/zero | tr "\\0" x; echo; ' +
        'printf "\\377\\376\\200 bin\\001\\033[31mred\\n"; printf "caf\\303\\251 \\342\\202\\254\\n"';
      const id = await runBusybox(podman, script);
      const expectedBytes = Buffer.concat([
        Buffer.alloc(102400, 'x'),
        Buffer.from('\n'),
        Buffer.from([0xff, 0xfe, 0x80, 0x20, 0x62, 0x69, 0x6e, 0x01, 0x1b]),
        Buffer.from('[31mred\n'),
        Buffer.from('café €\n'),
      ]);
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      const got = lineRecords((await collect(await open(id, FOLLOW))).records);
      t.equal(got.length, 3, 'three lines, the long one whole');
      t.equal(got[0]!.line.length, 102400);
      t.notOk(got[0]!.partial, 'not a cut piece');
      const delivered = Buffer.concat(got.flatMap((r) => [r.line, Buffer.from('\n')]));
      t.equal(sha(delivered), sha(expectedBytes), 'SHA-256 of what was written equals that of what was delivered');
    },
  );

  t.test('a line written over several seconds is one line, with the time of its first piece', async (t) => {
    const id = await runBusybox(
      podman,
      'echo before; printf "progress "; sleep 1.2; printf "50%% "; sleep 1.2; echo done; echo after',
    );
    await waitForExitCode(podman, id);
    const all = lineRecords((await collect(await open(id, ALL))).records);
    t.same(
      all.map((r) => r.line.toString()),
      ['before', 'progress 50% done', 'after'],
    );
    t.ok(
      all[2]!.time! - all[1]!.time! >= 2n * NS_PER_S,
      'its time is that of its first piece, two seconds before the next line',
    );
    for (let i = 0; i < all.length; i++) {
      const rest = lineRecords(
        (await collect(await open(id, { ...ALL, after: decodeCursor(all[i]!.cursor) }))).records,
      );
      t.same(
        rest.map((r) => r.cursor),
        all.slice(i + 1).map((r) => r.cursor),
        `after record ${i}: exactly the records behind it`,
      );
    }
  });

  tailCases(t, daemon);

  t.test('until ends a followed stream: every line of its second, nothing later', async (t) => {
    const id = await runBusybox(podman, 'while true; do echo tick; sleep 0.1; done');
    t.teardown(() => remove(id));
    await waitForLines(id, 2);
    const until = nowNanos() + 500_000_000n;
    const started = Date.now();
    const { records, ended } = await collect(await open(id, { ...FOLLOW, until }), { timeoutMs: 5000 });
    t.ok(ended, 'the stream ended by itself');
    t.ok(Date.now() - started < 3000, `soon after until’s second (${Date.now() - started} ms)`);
    const got = lineRecords(records);
    t.ok(got.length >= 5, 'lines before until arrived');
    t.ok(
      got.every((r) => r.time! <= until),
      'none stamped after until',
    );
    t.notOk(
      records.some((r) => r.type === 'exit'),
      'no exit record: the container runs',
    );
    const all = lineRecords((await collect(await open(id, ALL))).records).filter((r) => r.time! <= until);
    t.same(
      got.map((r) => r.cursor),
      all.map((r) => r.cursor),
      'exactly the lines stamped up to until',
    );
  });

  t.test('after= resumes exactly behind any record: hundreds in one second, a 2.5 MiB line cut in three', async (t) => {
    const id = await runBusybox(
      podman,
      'echo first; head -c 2621440 /dev/zero | tr "\\0" y; echo; i=1; while [ $i -le 300 ]; do echo "after $i"; i=$((i+1)); done',
    );
    await waitForExitCode(podman, id);
    const full = lineRecords((await collect(await open(id, ALL))).records);
    t.same(
      full.slice(0, 5).map((r) => r.line.length),
      [5, 1048576, 1048576, 524288, 7],
      'the long line, cut at 1 MiB into three records',
    );
    const perSecond = new Map<bigint, number>();
    for (const r of full) perSecond.set(r.time!, (perSecond.get(r.time!) ?? 0) + 1);
    t.ok(Math.max(...perSecond.values()) >= 100, `up to ${Math.max(...perSecond.values())} records share a second`);
    t.equal(new Set(full.map((r) => r.cursor)).size, full.length, 'every record has its own cursor');
    const describe = (r: LineRecord) => `${r.cursor}:${r.line.length}`;
    const checked = [0, 1, 2, 3, 4, 5, 100, 150, 200, full.length - 2, full.length - 1];
    for (const i of checked) {
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

  t.test('containers() lists containers with TTY, labels and pod; the pods passthrough', async (t) => {
    const podId = await createPod(podman, 'egp-list-pod', { tier: 'web' });
    const inPod = await runBusybox(podman, 'sleep 600', {
      name: 'egp-in-pod',
      pod: 'egp-list-pod',
      labels: { role: 'app' },
    });
    t.teardown(() => podman.podman(['pod', 'rm', '--force', '--time=0', 'egp-list-pod']));
    const running = await runBusybox(podman, 'sleep 600', { name: 'egp-list-running', tty: true });
    t.teardown(() => remove(running));
    const stopped = await runBusybox(podman, 'exit 0', { name: 'egp-list-stopped' });
    await waitForExitCode(podman, stopped);
    const list = await engine.containers();
    const byName = new Map<string, PodmanContainerInfo>(list.map((c) => [c.names[0]!, c]));
    t.match(byName.get('egp-list-running'), { id: running, state: 'running', tty: true, image: podman.image });
    t.match(byName.get('egp-list-stopped'), { id: stopped, state: 'exited', tty: false });
    t.match(byName.get('egp-in-pod'), { id: inPod, labels: { role: 'app' }, pod: { id: podId, name: 'egp-list-pod' } });
    t.ok(
      list.some((c) => c.infra === true && c.pod?.id === podId),
      'the pod’s infra container is listed, marked infra',
    );
    t.ok(!Number.isNaN(Date.parse(byName.get('egp-list-running')!.createdAt)), 'createdAt is a time');
    const endpoint = engine.passthroughs().find((p) => p.controller === 'podman' && p.endpoint === 'pods')!;
    const pods = (await endpoint.handler({ params: {}, query: {} })) as PodmanPodInfo[];
    const pod = pods.find((p) => p.id === podId);
    t.match(pod, { name: 'egp-list-pod', labels: { tier: 'web' } });
    t.ok(pod?.containers.includes(inPod), 'the pod lists its container');
  });

  t.test('health follows the service', async (t) => {
    t.same(await engine.health(), { ok: true });
    t.same(healthReports, [], 'nothing reported while all is well');
  });
}
