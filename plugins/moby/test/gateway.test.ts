// The moby plugin through the gateway's logs route (WebSocket framings and plain HTTP), against
// a private dockerd.
import t from 'tap';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRfc3339 } from '@enginegate/plugin-api';
import { createGateway, type Gateway } from '@enginegate/gateway';
import mobyPlugin, { MobyEngine } from '@enginegate/plugin-moby';
import { dockerdForTest, runBusybox, waitForExitCode, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { connectionCyclesCase } from '@enginegate/test-harness/connection-cycles';
import { HttpStatusError, LogsClient } from '@enginegate/test-client';

const TOKEN = 't';
t.setTimeout(240_000);
const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const gw: Gateway = await createGateway({
    port: 0,
    token: TOKEN,
    plugins: [mobyPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket: dockerd.socket } },
    logger: false,
  });
  const client = new LogsClient(await gw.listen(), TOKEN);
  t.teardown(() => gw.close());
  t.equal(gw.engines.status.state, 'running', 'the moby engine runs');
  const engine = gw.engines.engineNamed('moby') as MobyEngine;

  const ws = (container: string, query: Record<string, string | number | boolean> = {}, protocol?: string) =>
    client.logsSocket(container, query, protocol === undefined ? [] : [protocol]);

  t.test('JSON framing keeps stdout and stderr apart, each in order; exit record, then 1000', async (t) => {
    const id = await runBusybox(
      dockerd,
      'i=1; while [ $i -le 30 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; exit 4',
    );
    const session = ws(id, {}, 'v1.json.enginegate');
    const { code } = await session.closed;
    t.equal(code, 1000);
    const records = session.jsonMessages();
    const text = (stream: string) => records.filter((r) => r['stream'] === stream).map((r) => r['line']);
    t.same(
      text('stdout'),
      Array.from({ length: 30 }, (_, i) => `out ${i + 1}`),
    );
    t.same(
      text('stderr'),
      Array.from({ length: 30 }, (_, i) => `err ${i + 1}`),
    );
    t.same(records.at(-1), { type: 'exit', exitCode: 4 });
    t.match(records[0], { type: 'line', time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/, cursor: /^t\d+\.\d+$/ });
  });

  t.test('HTTP: tail, since, until, timestamps, follow=false on a running container', async (t) => {
    const id = await runBusybox(
      dockerd,
      'i=1; while [ $i -le 8 ]; do echo "n $i"; i=$((i+1)); sleep 0.02; done; sleep 600',
    );
    t.teardown(() => dockerd.docker.getContainer(id).remove({ force: true }));
    let ndjson: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && ndjson.length < 8; i++) {
      const res = await client.readHttp(id, { follow: false }, { accept: 'application/x-ndjson' });
      ndjson = res.body
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      if (ndjson.length < 8) await sleep(50);
    }
    t.equal(ndjson.length, 8, 'follow=false returns while the container runs');

    const tail = await client.readHttp(id, { follow: false, tail: 5 });
    t.equal(tail.status, 200);
    t.equal(tail.body.toString(), 'n 4\nn 5\nn 6\nn 7\nn 8\n', 'tail=5');

    const since = ndjson[2]!['time'] as string;
    const until = ndjson[5]!['time'] as string;
    const window = await client.readHttp(id, { follow: false, since, until });
    t.equal(window.body.toString(), 'n 3\nn 4\nn 5\nn 6\n', 'since and until (RFC3339Nano), inclusive');

    const stamped = await client.readHttp(id, { follow: false, tail: 1, timestamps: true });
    t.equal(
      stamped.body.toString(),
      `${String(ndjson[7]!['time'])} n 8\n`,
      'timestamps=true: Docker’s fixed-width time and a space',
    );

    const sinceSeconds = await client.readHttp(id, { follow: false, since: '10m' });
    t.equal(sinceSeconds.body.toString().split('\n').length - 1, 8, 'a duration for since');
  });

  t.test('a TTY container over the raw framing: bytes with CRLF as Docker sends them', async (t) => {
    const id = await runBusybox(dockerd, 'echo hello; echo world', { tty: true });
    const session = ws(id);
    const { code } = await session.closed;
    t.equal(code, 1000);
    t.ok(
      session.messages.every((m) => m.isBinary),
      'binary messages',
    );
    t.equal(Buffer.concat(session.messages.map((m) => m.data)).toString('latin1'), 'hello\r\nworld\r\n');
  });

  t.test('binary framing: a 100 KiB line is one message; non-UTF-8 bytes exact (SHA-256)', async (t) => {
    const id = await runBusybox(
      dockerd,
      'head -c 102400 /dev/zero | tr "\\0" z; echo; printf "\\377\\376\\001\\200\\n"; printf "\\303\\251t\\303\\251\\n" >&2',
      // json-file would turn invalid UTF-8 into U+FFFD; `local` keeps the bytes.
      { logDriver: 'local' },
    );
    const written = Buffer.concat([
      Buffer.alloc(102400, 'z'),
      Buffer.from('\n'),
      Buffer.from([0xff, 0xfe, 0x01, 0x80, 0x0a]),
      Buffer.from('été\n'),
    ]);
    const session = ws(id, {}, 'v1.binary.enginegate');
    t.equal((await session.closed).code, 1000);
    // Order holds within a stream; between stdout and stderr Docker promises none.
    const lines = [1, 2].flatMap((stream) => session.messages.filter((m) => m.data[0] === stream));
    t.same(
      lines.map((m) => [m.data[0], m.data.length - 1]),
      [
        [1, 102400],
        [1, 4],
        [2, 5],
      ],
    );
    const delivered = Buffer.concat(lines.flatMap((m) => [m.data.subarray(1), Buffer.from('\n')]));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    t.equal(sha(delivered), sha(written), 'SHA-256 of what the container wrote = of what the binary framing delivered');
    const control = session.messages.at(-1)!;
    t.equal(control.data[0], 3);
    t.same(JSON.parse(control.data.subarray(1).toString()), { type: 'exit', exitCode: 0 });
  });

  t.test('live: a line every 200 ms reaches the client within 100 ms of (previous arrival + 200 ms)', async (t) => {
    const id = await runBusybox(
      dockerd,
      'i=1; while [ $i -le 12 ]; do echo "live $i"; i=$((i+1)); sleep 0.2; done; sleep 600',
    );
    t.teardown(() => dockerd.docker.getContainer(id).remove({ force: true }));
    const session = ws(id, {}, 'v1.json.enginegate');
    await session.waitForMessages(12);
    const running = (await dockerd.docker.getContainer(id).inspect()).State.Running;
    t.ok(running, 'all arrived while the container runs');
    const records = session.jsonMessages();
    t.same(
      records.map((r) => r['line']),
      Array.from({ length: 12 }, (_, i) => `live ${i + 1}`),
    );
    // busybox's `sleep 0.2` loop drifts on a loaded machine: measure each arrival gap against
    // the gap the container itself left between the two lines (Docker's timestamps, same clock).
    const writtenMs = records.map((r) => Number(parseRfc3339(r['time'] as string)! / 1_000_000n));
    const arrivedMs = session.messages.map((m) => performance.timeOrigin + m.at);
    const excess = arrivedMs.slice(1).map((at, i) => at - arrivedMs[i]! - (writtenMs[i + 1]! - writtenMs[i]!));
    // The first message may carry history written before the socket opened; the later ones are live.
    // One stall of a loaded machine makes one arrival late (the next gap is then short); lines held
    // back for batching would make most of them late.
    const late = excess.slice(1).filter((ms) => ms > 100);
    t.ok(
      late.length <= 1 && late.every((ms) => ms < 1000),
      `each line within 100 ms of (previous arrival + the container's interval), one stall allowed (late: ${JSON.stringify(late.map(Math.round))}; max ${Math.max(...excess.slice(1)).toFixed(0)} ms)`,
    );
    const latency = arrivedMs.slice(1).map((at, i) => at - writtenMs[i + 1]!);
    t.comment(`written-to-delivered latency: max ${Math.max(...latency).toFixed(0)} ms`);
    session.close();
    await session.closed;
  });

  t.test('exit while followed: last line, exit record, 1000; docker rm -f: a clean close', async (t) => {
    const exiting = await runBusybox(dockerd, 'echo start; sleep 0.5; echo bye; exit 9');
    const s1 = ws(exiting, {}, 'v1.json.enginegate');
    await s1.waitForMessages(1);
    t.equal((await s1.closed).code, 1000);
    t.same(
      s1.jsonMessages().map((r) => (r['type'] === 'line' ? r['line'] : r)),
      ['start', 'bye', { type: 'exit', exitCode: 9 }],
    );

    const removed = await runBusybox(dockerd, 'while true; do echo tick; sleep 0.1; done');
    const s2 = ws(removed, {}, 'v1.json.enginegate');
    await s2.waitForMessages(2);
    await dockerd.docker.getContainer(removed).remove({ force: true });
    const { code } = await s2.closed;
    t.equal(code, 1000, 'closed 1000');
    t.notOk(
      s2.jsonMessages().some((r) => r['type'] === 'error'),
      'no error record',
    );
  });

  t.test('cursors: after= over records sharing a timestamp — none twice, none missing', async (t) => {
    // A 2.5 MiB line: its 16 KiB pieces share one Docker timestamp and, cut at 1 MiB, become
    // three records with one time.
    const id = await runBusybox(dockerd, 'echo a; head -c 2621440 /dev/zero | tr "\\0" q; echo; echo b; echo c');
    await waitForExitCode(dockerd, id);
    const full = ws(id, { follow: false }, 'v1.json.enginegate');
    t.equal((await full.closed).code, 1000);
    const all = full.jsonMessages().filter((r) => r['type'] === 'line');
    t.equal(all.length, 6);
    t.equal(new Set(all.slice(1, 4).map((r) => r['time'])).size, 1, 'three records share a time');
    const describe = (r: Record<string, unknown>) => `${String(r['cursor'])}:${String(r['line']).length}`;
    for (let i = 0; i < all.length; i++) {
      const resumed = ws(id, { follow: false, after: all[i]!['cursor'] as string }, 'v1.json.enginegate');
      t.equal((await resumed.closed).code, 1000);
      t.same(
        resumed
          .jsonMessages()
          .filter((r) => r['type'] === 'line')
          .map(describe),
        all.slice(i + 1).map(describe),
        `after record ${i}`,
      );
    }
  });

  t.test('errors before the upgrade: 404, 409, 400, 501', async (t) => {
    const missing = await client.readHttp('egm-nope', {});
    t.equal(missing.status, 404);
    t.match(JSON.parse(missing.body.toString()), { error: { code: 'CONTAINER_NOT_FOUND' } });
    const bad = await client.readHttp('-x', {});
    t.equal(bad.status, 400);
    const none = await runBusybox(dockerd, 'echo x', { logDriver: 'none' });
    const unsupported = ws(none);
    const refusedWith = await unsupported.opened.then(
      () => 101,
      (err: HttpStatusError) => err.status,
    );
    t.equal(refusedWith, 501, 'the none log driver: 501 before the upgrade');
    const created = await Promise.all(Array.from({ length: 17 }, () => runBusybox(dockerd, 'true', { start: false })));
    t.teardown(() => Promise.all(created.map((c) => dockerd.docker.getContainer(c).remove({ force: true }))));
    const counts = new Map<string, number>();
    for (const c of created) counts.set(c[0]!, (counts.get(c[0]!) ?? 0) + 1);
    const prefix = [...counts].find(([, n]) => n > 1)![0];
    const ambiguous = await client.readHttp(prefix, {});
    t.equal(ambiguous.status, 409);
    t.match(JSON.parse(ambiguous.body.toString()), { error: { code: 'AMBIGUOUS_CONTAINER' } });
  });

  connectionCyclesCase(t, {
    daemon: 'Docker',
    socket: dockerd.socket,
    client,
    openStreams: () => ({ gateway: gw.openStreams, engine: engine.openStreamCount }),
    run: (script) => runBusybox(dockerd, script),
    remove: (id) =>
      dockerd.docker
        .getContainer(id)
        .remove({ force: true })
        .then(() => undefined),
  });
}
