// What the moby LogSource does when Docker misbehaves in ways a real daemon will not do on cue:
// an in-band error frame, a connection cut mid-frame while the daemon lives, a followed stream
// that keeps ending while the container runs. A small fake Engine API on a unix socket.
import t, { type Test } from 'tap';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeCursor, parseRfc3339, type LogOptions } from '@enginegate/plugin-api';
import { MobyEngine, toDockerTimeParam } from '@enginegate/plugin-moby';
import { collect, lineRecords, lines, recordingLogger } from '@enginegate/test-harness/log-records';

const ID = 'f'.repeat(64);
const FOLLOW: LogOptions = { follow: true, stdout: true, stderr: true };
/** Docker's answer to a logs request: 200 and a raw stream. */
function ok(res: http.ServerResponse): http.ServerResponse {
  res.writeHead(200, { 'content-type': 'application/vnd.docker.raw-stream' });
  return res;
}
const stamp = (n: number) => `2026-11-27T03:16:0${n}.000000000Z`;

function frame(stream: number, text: string): Buffer {
  const body = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

type LogsHandler = (query: URLSearchParams, res: http.ServerResponse, attempt: number) => void;

async function fakeDaemon(
  t: Test,
  state: { running: boolean; exitCode: number; pingFails?: boolean },
  onLogs: LogsHandler,
  engineOptions: { requestTimeoutMs?: number } = {},
) {
  const dir = await mkdtemp('/tmp/egm-fake-');
  const socket = join(dir, 'docker.sock');
  const logQueries: URLSearchParams[] = [];
  const counts = { inspect: 0 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://docker');
    if (url.pathname.endsWith('/_ping')) {
      if (state.pingFails) res.statusCode = 500;
      return void res.end('OK');
    }
    if (url.pathname.endsWith('/json')) {
      counts.inspect++;
      res.setHeader('content-type', 'application/json');
      return void res.end(
        JSON.stringify({
          Id: ID,
          Name: '/fake',
          Created: '2026-11-27T03:16:00.000000000Z',
          Config: { Tty: false },
          HostConfig: { LogConfig: { Type: 'json-file', Config: {} } },
          State: {
            Running: state.running,
            Restarting: false,
            Status: state.running ? 'running' : 'exited',
            ExitCode: state.exitCode,
            FinishedAt: '2026-11-27T03:16:09.000000000Z',
          },
        }),
      );
    }
    if (url.pathname.endsWith('/logs')) {
      logQueries.push(url.searchParams);
      return onLogs(url.searchParams, res, logQueries.length);
    }
    res.statusCode = 404;
    res.end('{"message":"no such route"}');
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  const logger = recordingLogger();
  const engine = new MobyEngine({
    config: { dockerSocket: socket },
    logger,
    reportHealth: () => undefined,
    ...engineOptions,
  });
  await engine.start();
  t.teardown(() => engine.stop());
  return { engine, logQueries, logger, counts, server };
}

t.test('an in-band error frame becomes an error record, and the stream ends', async (t) => {
  const { engine, logger } = await fakeDaemon(t, { running: true, exitCode: 0 }, (_q, res) => {
    ok(res).write(frame(1, `${stamp(1)} before\n`));
    res.end(frame(3, 'error from daemon in stream: Error grabbing logs: unexpected EOF\n'));
  });
  const { records, ended } = await collect(
    await engine.logs.open({ ref: 'fake' }, FOLLOW, new AbortController().signal),
  );
  t.ok(ended);
  t.same(lines(records), ['before']);
  t.match(records.at(-1), { type: 'error', code: 'INTERNAL', message: /Error grabbing logs: unexpected EOF/ });
  t.ok(
    logger.entries.some((e) => e.level === 'warn'),
    'logged at warn: the client sees only the error record',
  );
});

t.test('a connection cut mid-frame with the daemon alive: resumed behind the last record, nothing twice', async (t) => {
  const state = { running: true, exitCode: 0 };
  const { engine, logQueries } = await fakeDaemon(t, state, (query, res, attempt) => {
    ok(res);
    if (attempt === 1) {
      // Two lines share the time of line 2 (as the pieces of a long line would).
      res.write(
        Buffer.concat([
          frame(1, `${stamp(1)} one\n`),
          frame(1, `${stamp(2)} two-a\n`),
          frame(1, `${stamp(2)} two-b\n`),
        ]),
      );
      // Half a frame, then the connection breaks.
      res.write(frame(1, `${stamp(3)} three\n`).subarray(0, 12), () => res.destroy());
      return;
    }
    // The resume asks from a second before the last record's time: Docker repeats some.
    t.equal(
      query.get('since'),
      toDockerTimeParam(parseRfc3339(stamp(2))! - 1_000_000_000n),
      'resumed a second before the last record',
    );
    t.notOk(query.has('tail'), 'no tail on a resume');
    t.equal(query.get('follow'), 'true');
    state.running = false;
    res.end(
      Buffer.concat([
        frame(1, `${stamp(1)} one\n`),
        frame(1, `${stamp(2)} two-a\n`),
        frame(1, `${stamp(2)} two-b\n`),
        frame(1, `${stamp(3)} three\n`),
      ]),
    );
  });
  const { records, ended, error } = await collect(
    await engine.logs.open({ ref: 'fake' }, FOLLOW, new AbortController().signal),
  );
  t.error(error);
  t.ok(ended);
  t.same(lines(records), ['one', 'two-a', 'two-b', 'three'], 'every line once');
  t.same(records.at(-1), { type: 'exit', exitCode: 0 });
  t.equal(logQueries.length, 2);
  t.equal(logQueries[0]!.get('timestamps'), 'true');
});

t.test('Docker ending the stream of a running container again and again: an error record, not a loop', async (t) => {
  const { engine, logQueries } = await fakeDaemon(t, { running: true, exitCode: 0 }, (_q, res) => ok(res).end());
  const { records, ended } = await collect(
    await engine.logs.open({ ref: 'fake' }, FOLLOW, new AbortController().signal),
    {
      timeoutMs: 20_000,
    },
  );
  t.ok(ended);
  t.match(records, [{ type: 'error', code: 'INTERNAL' }]);
  t.equal(logQueries.length, 6, 'the first request and five resumes');
});

t.test('a cursor resumes by position: a record stamped earlier but logged later is not lost', async (t) => {
  // Docker stamps each stream on its own: the stderr line below is stamped before the stdout
  // line it follows in the log.
  const log = [
    frame(1, `${stamp(1)} o1\n`),
    frame(1, '2026-11-27T03:16:02.500000000Z o2\n'),
    frame(2, '2026-11-27T03:16:02.400000000Z e-early\n'),
    frame(1, `${stamp(3)} o3\n`),
  ];
  const { engine } = await fakeDaemon(t, { running: false, exitCode: 0 }, (_q, res) => ok(res).end(Buffer.concat(log)));
  const read = async (after?: string) =>
    collect(
      await engine.logs.open(
        { ref: 'fake' },
        { ...FOLLOW, follow: false, ...(after ? { after: decodeCursor(after) } : {}) },
        new AbortController().signal,
      ),
    );
  const full = lineRecords((await read()).records);
  t.same(lines(full), ['o1', 'o2', 'e-early', 'o3']);
  for (let k = 0; k < full.length; k++) {
    t.same(lines((await read(full[k]!.cursor)).records), lines(full.slice(k + 1)), `after record ${k}`);
  }
});

t.test('follow=false: the end of the body is the end, no state looked up', async (t) => {
  const { engine, counts } = await fakeDaemon(t, { running: false, exitCode: 3 }, (_q, res) =>
    ok(res).end(frame(2, `${stamp(1)} e\n`)),
  );
  const { records, ended } = await collect(
    await engine.logs.open({ ref: 'fake' }, { ...FOLLOW, follow: false }, new AbortController().signal),
  );
  t.ok(ended);
  t.same(
    records.map((r) => r.type),
    ['line'],
    'no exit record without follow',
  );
  t.equal(counts.inspect, 1, 'only the inspect of open()');
});

t.test('follow=false, a body that ends between frames while the daemon is gone: 503, not a short read', async (t) => {
  const state = { running: false, exitCode: 0, pingFails: false };
  const { engine, logQueries } = await fakeDaemon(t, state, (_q, res) => {
    // Over HTTP/1.0 a dying daemon's body ends like a whole one: only a ping tells them apart.
    state.pingFails = true;
    ok(res).end(frame(1, `${stamp(1)} only\n`));
  });
  const { records, error } = await collect(
    await engine.logs.open({ ref: 'fake' }, { ...FOLLOW, follow: false }, new AbortController().signal),
  );
  t.same(lines(records), ['only']);
  t.match(error, { code: 'ENGINE_UNAVAILABLE', message: /stopped answering/ });
  t.equal(logQueries[0]!.get('follow'), 'false');
});

t.test(
  'a daemon that never answers a logs request: 503 after the request timeout, the connection dropped',
  async (t) => {
    let serverSide: import('node:net').Socket | undefined;
    const { engine } = await fakeDaemon(
      t,
      { running: true, exitCode: 0 },
      (_q, res) => {
        serverSide = res.socket ?? undefined; // never answers
      },
      { requestTimeoutMs: 300 },
    );
    const started = performance.now();
    await t.rejects(engine.logs.open({ ref: 'fake' }, FOLLOW, new AbortController().signal), {
      code: 'ENGINE_UNAVAILABLE',
      message: /did not answer a logs request within 300 ms/,
    });
    t.ok(performance.now() - started < 3000, 'in about the timeout');
    for (let i = 0; i < 40 && serverSide && !serverSide.destroyed; i++) await new Promise((r) => setTimeout(r, 25));
    t.ok(serverSide?.destroyed, 'the request was dropped');
    t.equal(engine.openStreamCount, 0);
  },
);

t.test('linesOnly, a whole finished read: Docker asked without timestamps, lines without time or cursor', async (t) => {
  const { engine, logQueries } = await fakeDaemon(t, { running: false, exitCode: 0 }, (q, res) =>
    ok(res).end(
      q.get('timestamps') === 'false'
        ? Buffer.concat([frame(1, 'o1\n'), frame(2, 'e1\n'), frame(1, 'o2')])
        : frame(1, `${stamp(1)} timed\n`),
    ),
  );
  const read = async (options: Partial<LogOptions>) =>
    (await collect(await engine.logs.open({ ref: 'fake' }, { ...FOLLOW, ...options }, new AbortController().signal)))
      .records;
  const records = await read({ follow: false, linesOnly: true });
  t.same(
    records.map((r) => (r.type === 'line' ? [r.stream, r.line.toString(), r.time, r.cursor, r.partial ?? false] : r)),
    [
      ['stdout', 'o1', null, '', false],
      ['stderr', 'e1', null, '', false],
      ['stdout', 'o2', null, '', true],
    ],
  );
  t.equal(logQueries.at(-1)!.get('timestamps'), 'false');
  t.same(lines(await read({ follow: false, linesOnly: true, stdout: false })), ['e1'], 'the selection still applies');
  // Anything placed by time keeps Docker's timestamps.
  for (const options of [{ since: 1n }, { until: parseRfc3339(stamp(5))! }, { follow: true }]) {
    const before = logQueries.length;
    await read({ follow: false, linesOnly: true, ...options });
    t.equal(logQueries[before]!.get('timestamps'), 'true', `timed with ${Object.keys(options).join()}`);
  }
});

t.test('linesOnly: a read cut off while the daemon lives ends with an error record, nothing sent twice', async (t) => {
  const { engine, logQueries } = await fakeDaemon(t, { running: false, exitCode: 0 }, (_q, res) => {
    ok(res).write(frame(1, 'one\n'));
    res.write(frame(1, 'two\n').subarray(0, 10), () => res.destroy());
  });
  const { records, ended } = await collect(
    await engine.logs.open(
      { ref: 'fake' },
      { ...FOLLOW, follow: false, linesOnly: true },
      new AbortController().signal,
    ),
  );
  t.ok(ended);
  t.same(lines(records), ['one']);
  t.match(records.at(-1), { type: 'error', code: 'INTERNAL', message: /broke off/ });
  t.equal(logQueries.length, 1, 'not resumed from the start');
});
