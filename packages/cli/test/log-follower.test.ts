import t from 'tap';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { followLogs, GatewayClient, parseGatewayAddress, type RetryPolicy } from '@enginegate/cli';

const FAST_RETRY: RetryPolicy = { initialDelayMs: 20, maxDelayMs: 80, budgetMs: 2000 };

/** What one connection attempt to the fake gateway is answered with. */
type Answer = { status: number; body?: unknown } | { script: (ws: WebSocket) => void };

/**
 * A stand-in for the gateway's logs route: answers attempt i with answers[i] (an HTTP status
 * before the upgrade, or a script run on the accepted socket), and records every request.
 */
async function fakeGateway(t: { teardown(fn: () => unknown): void }, answers: Answer[]) {
  const requests: { url: URL; headers: http.IncomingHttpHeaders }[] = [];
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket, head) => {
    requests.push({ url: new URL(req.url!, 'http://x'), headers: req.headers });
    const answer = answers[requests.length - 1] ?? { status: 500 };
    if ('status' in answer) {
      const body = JSON.stringify(
        answer.body ?? { error: { code: 'ENGINE_UNAVAILABLE', message: 'no engine is running' } },
      );
      socket.end(
        `HTTP/1.1 ${answer.status} X\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
          `${answer.status === 503 ? 'retry-after: 2\r\n' : ''}connection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => answer.script(ws));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    for (const ws of wss.clients) ws.terminate();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  const client = new GatewayClient(parseGatewayAddress(`http://127.0.0.1:${port}`), {
    token: 'sesame',
    origin: '--token',
  });
  return { client, requests };
}

function collector() {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks), text: () => Buffer.concat(chunks).toString() };
}

/** A line record as the v1.json framing sends it; line n is stamped n seconds after 2024-01-01. */
function lineRecord(n: number, stream: 'stdout' | 'stderr' = 'stdout', bytes?: Buffer) {
  const time = `2024-01-01T00:00:${String(n).padStart(2, '0')}.000000000Z`;
  const payload = bytes ? { base64: bytes.toString('base64') } : { line: `line ${n}` };
  return JSON.stringify({ type: 'line', stream, time, ...payload, cursor: `t${1704067200 + n}000000000.0` });
}

/** Lines `from`..`to` (even ones on stderr) in the framing the client chose. */
function sendLines(ws: WebSocket, from: number, to: number) {
  for (let n = from; n <= to; n++) {
    const stream = n % 2 === 0 ? 'stderr' : 'stdout';
    if (ws.protocol === 'v1.binary.enginegate')
      ws.send(Buffer.from(`${stream === 'stderr' ? '\x02' : '\x01'}line ${n}`));
    else ws.send(lineRecord(n, stream));
  }
}

function run(
  client: GatewayClient,
  query: Record<string, string>,
  extra: { timestamps?: boolean; retry?: RetryPolicy; silenceTimeoutMs?: number } = {},
) {
  const out = collector();
  const err = collector();
  const done = followLogs({
    client,
    container: 'web',
    query: new URLSearchParams(query),
    stdout: out.stream,
    stderr: err.stream,
    timestamps: extra.timestamps ?? false,
    retry: extra.retry ?? FAST_RETRY,
    silenceTimeoutMs: extra.silenceTimeoutMs,
  });
  return { out, err, done };
}

t.test('a 1012 close reconnects with after=<last cursor>, through 503s, and nothing repeats', async (t) => {
  const { client, requests } = await fakeGateway(t, [
    {
      script: (ws) => {
        sendLines(ws, 1, 4);
        ws.close(1012, 'engine switched');
      },
    },
    { status: 503 },
    { status: 503 },
    {
      script: (ws) => {
        sendLines(ws, 5, 6);
        ws.send(JSON.stringify({ type: 'exit', exitCode: 3 }));
        ws.close(1000);
      },
    },
  ]);
  const { out, err, done } = run(client, { follow: 'true', tail: '4' });
  await done;
  t.equal(out.text(), 'line 1\nline 3\nline 5\n');
  t.equal(err.text(), 'line 2\nline 4\nline 6\n');
  t.equal(requests.length, 4);
  t.equal(requests[0]!.url.pathname, '/passthrough/engine/logs/web');
  t.equal(requests[0]!.url.searchParams.get('tail'), '4');
  t.equal(requests[0]!.url.searchParams.get('after'), null);
  t.equal(requests[0]!.headers.authorization, 'Bearer sesame');
  t.equal(requests[0]!.headers['sec-websocket-protocol'], 'v1.json.enginegate');
  for (const retry of requests.slice(1)) {
    t.equal(retry.url.searchParams.get('after'), `t${1704067200 + 4}000000000.0`, 'resumes after line 4');
    t.equal(retry.url.searchParams.get('tail'), null, 'tail is not applied again');
    t.equal(retry.url.searchParams.get('follow'), 'true');
  }
});

t.test('a dropped connection (no close frame) also resumes after the last line', async (t) => {
  const { client, requests } = await fakeGateway(t, [
    {
      script: (ws) => {
        sendLines(ws, 1, 1);
        setTimeout(() => ws.terminate(), 50);
      },
    },
    {
      script: (ws) => {
        sendLines(ws, 3, 3);
        ws.close(1000);
      },
    },
  ]);
  const { out, done } = run(client, { follow: 'true' });
  await done;
  t.equal(out.text(), 'line 1\nline 3\n');
  t.equal(requests[1]!.url.searchParams.get('after'), `t${1704067201}000000000.0`);
});

t.test('a connection silent for too long (no ping, no message) is dropped and resumed', async (t) => {
  const { client, requests } = await fakeGateway(t, [
    { script: (ws) => sendLines(ws, 1, 1) }, // then nothing: a gateway host that vanished
    {
      script: (ws) => {
        // This one pings (as the gateway does every 30 s) before its lines: it stays open.
        const pings = setInterval(() => ws.ping(), 40);
        setTimeout(() => {
          clearInterval(pings);
          sendLines(ws, 2, 2);
          ws.close(1000);
        }, 400);
      },
    },
  ]);
  const started = Date.now();
  const { out, err, done } = run(client, { follow: 'true' }, { silenceTimeoutMs: 100 });
  await done;
  t.equal(requests.length, 2, 'one reconnect, and the pinging connection was kept');
  t.equal(requests[1]!.url.searchParams.get('after'), `t${1704067201}000000000.0`);
  t.equal(out.text(), 'line 1\n');
  t.equal(err.text(), 'line 2\n');
  t.ok(Date.now() - started >= 500);
});

t.test('a stdout that does not drain stops the reading of the socket, until it drains', async (t) => {
  const LINES = 20_000;
  const payload = 'x'.repeat(1000);
  let serverSocket: WebSocket | undefined;
  const { client } = await fakeGateway(t, [
    {
      script: (ws) => {
        serverSocket = ws;
        for (let n = 1; n <= LINES; n++) ws.send(Buffer.from(`\x01${payload}`));
        ws.close(1000);
      },
    },
  ]);
  let received = 0;
  const stalled: (() => void)[] = [];
  let stall = true;
  const slowStdout = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (stall) stalled.push(done);
      else done();
    },
  });
  const done = followLogs({
    client,
    container: 'web',
    query: new URLSearchParams({ follow: 'false' }),
    stdout: slowStdout,
    stderr: collector().stream,
    timestamps: false,
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  // Had the CLI kept reading, the server's socket would have flushed everything by now.
  t.ok(
    serverSocket!.bufferedAmount > 1024 * 1024,
    `the gateway side is held back (${serverSocket!.bufferedAmount} bytes buffered)`,
  );
  stall = false;
  for (const release of stalled.splice(0)) release();
  await done;
  t.equal(received, LINES * (payload.length + 1), 'every line once the reader drains');
});

t.test('a finished read without times goes over the binary framing; a reconnect skips what was printed', async (t) => {
  const { client, requests } = await fakeGateway(t, [
    {
      script: (ws) => {
        sendLines(ws, 1, 3);
        ws.send(Buffer.from(`\x03${JSON.stringify({ type: 'gap', reason: 'rotated' })}`));
        ws.close(1012, 'engine switched');
      },
    },
    {
      script: (ws) => {
        sendLines(ws, 1, 5); // no cursor to resume from: the read starts again, in JSON
        ws.close(1000);
      },
    },
  ]);
  const { out, err, done } = run(client, { follow: 'false' });
  await done;
  t.equal(requests[0]!.headers['sec-websocket-protocol'], 'v1.binary.enginegate');
  t.equal(requests[1]!.headers['sec-websocket-protocol'], 'v1.json.enginegate');
  t.equal(requests[1]!.url.searchParams.get('after'), null);
  t.equal(out.text(), 'line 1\nline 3\nline 5\n', 'every line once');
  t.equal(err.text(), 'line 2\nenginegate: some log lines were lost: rotated\nline 4\n');
  const other = await fakeGateway(t, [{ script: (ws) => ws.close(1000) }]);
  for (const query of [{ follow: 'true' }, { follow: 'false', tail: '3' }] as Array<Record<string, string>>) {
    await run(other.client, query).done.catch(() => undefined);
  }
  await run(other.client, { follow: 'false' }, { timestamps: true }).done.catch(() => undefined);
  t.same(
    other.requests.map((r) => r.headers['sec-websocket-protocol']),
    ['v1.json.enginegate', 'v1.json.enginegate', 'v1.json.enginegate'],
    'a follow, a tail or times: JSON',
  );
});

t.test('the first connection reports a 404 as one line, without retrying', async (t) => {
  const { client, requests } = await fakeGateway(t, [
    { status: 404, body: { error: { code: 'CONTAINER_NOT_FOUND', message: 'no such container: web' } } },
  ]);
  const { done } = run(client, { follow: 'true' });
  await t.rejects(done, { message: 'no such container: web (CONTAINER_NOT_FOUND)', exitCode: 1 });
  t.equal(requests.length, 1);
});

t.test('a 503 on the first connection is reported at once', async (t) => {
  const { client, requests } = await fakeGateway(t, [{ status: 503 }, { status: 503 }]);
  const { done } = run(client, { follow: 'true' });
  await t.rejects(done, { message: 'no engine is running (ENGINE_UNAVAILABLE)' });
  t.equal(requests.length, 1);
});

t.test('a 401 says the token was refused and where it came from', async (t) => {
  const { client } = await fakeGateway(t, [
    { status: 401, body: { error: { code: 'UNAUTHORIZED', message: 'bad token' } } },
  ]);
  const { done } = run(client, { follow: 'false' });
  await t.rejects(done, { message: /refused the token \(looked at --token\)/ });
});

t.test('without follow, reconnecting gives up when the retry budget is spent', async (t) => {
  const answers: Answer[] = [
    {
      script: (ws) => {
        sendLines(ws, 1, 1);
        ws.close(1012);
      },
    },
  ];
  for (let i = 0; i < 50; i++) answers.push({ status: 503 });
  const { client, requests } = await fakeGateway(t, answers);
  const started = Date.now();
  const { out, done } = run(
    client,
    { follow: 'false' },
    { retry: { initialDelayMs: 10, maxDelayMs: 20, budgetMs: 200 } },
  );
  await t.rejects(done, { message: 'no engine is running (ENGINE_UNAVAILABLE)' });
  t.ok(Date.now() - started >= 200, 'kept trying for the whole budget');
  t.ok(requests.length > 3 && requests.length < 40, `retried with backoff (${requests.length} attempts)`);
  t.equal(out.text(), 'line 1\n');
});

t.test('with follow, an unavailable engine is waited out past the budget', async (t) => {
  const answers: Answer[] = [
    {
      script: (ws) => {
        sendLines(ws, 1, 1);
        ws.close(1012);
      },
    },
  ];
  for (let i = 0; i < 8; i++) answers.push({ status: 503 });
  answers.push({
    script: (ws) => {
      sendLines(ws, 2, 2);
      ws.close(1000);
    },
  });
  const { client, requests } = await fakeGateway(t, answers);
  const { out, err, done } = run(
    client,
    { follow: 'true' },
    { retry: { initialDelayMs: 10, maxDelayMs: 20, budgetMs: 30 } },
  );
  await done;
  t.equal(requests.length, 10);
  t.equal(out.text(), 'line 1\n');
  t.equal(err.text(), 'line 2\n');
});

t.test('1011 reports the error record; 1001 and 1013 say what happened', async (t) => {
  const cases: [Answer, RegExp][] = [
    [
      {
        script: (ws) => {
          ws.send(JSON.stringify({ type: 'error', code: 'INTERNAL', message: 'docker went away' }));
          ws.close(1011, 'engine error');
        },
      },
      /^docker went away \(INTERNAL\)$/,
    ],
    [{ script: (ws) => ws.close(1001) }, /is shutting down/],
    [{ script: (ws) => ws.close(1013) }, /too many open log streams/],
    [{ script: (ws) => ws.send('not json') }, /not a v1.json.enginegate record/],
  ];
  for (const [answer, message] of cases) {
    const { client } = await fakeGateway(t, [answer]);
    const { done } = run(client, { follow: 'true' });
    await t.rejects(done, { message }, String(message));
  }
});

t.test('base64 lines are written as their exact bytes; -t uses the record time', async (t) => {
  const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x0d]);
  const { client } = await fakeGateway(t, [
    {
      script: (ws) => {
        ws.send(lineRecord(7, 'stdout', bytes));
        ws.send(JSON.stringify({ type: 'gap', reason: 'log file rotated' }));
        ws.send(lineRecord(8, 'stderr'));
        ws.close(1000);
      },
    },
  ]);
  const { out, err, done } = run(client, { follow: 'false' }, { timestamps: true });
  await done;
  t.same(out.bytes(), Buffer.concat([Buffer.from('2024-01-01T00:00:07.000000000Z '), bytes, Buffer.from('\n')]));
  t.equal(
    err.text(),
    'enginegate: some log lines were lost: log file rotated\n2024-01-01T00:00:08.000000000Z line 8\n',
  );
});
