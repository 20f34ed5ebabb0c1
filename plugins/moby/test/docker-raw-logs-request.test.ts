// requestRawLogs (a logs body over HTTP/1.0 on a socket of its own) against a scripted fake
// daemon: a net server that answers each connection with exactly the bytes a test gives it.
import t, { type Test } from 'tap';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { isConnectionFailure } from '@enginegate/plugin-api';
import { DockerClient } from '../src/docker-client.js';
import { dockerMessage, httpStatusOf, toEngineError } from '../src/docker-errors.js';
import { MAX_HEAD_BYTES, requestRawLogs, type PlainDockerEndpoint } from '../src/docker-raw-logs-request.js';

type Answer = (socket: net.Socket, request: string) => void;

/** A fake daemon: each connection's request head is recorded, then `answer` gets the socket. */
async function fakeDaemon(t: Test, answer: Answer, where: 'unix' | 'tcp' = 'unix') {
  const requests: string[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      requests.push(head);
      answer(socket, head);
    };
    socket.on('data', onData);
  });
  let endpoint: PlainDockerEndpoint;
  if (where === 'unix') {
    const dir = await mkdtemp('/tmp/egm-raw-');
    const socketPath = join(dir, 'docker.sock');
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    endpoint = { kind: 'unix', socketPath };
    t.teardown(() => rm(dir, { recursive: true, force: true }));
  } else {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = { kind: 'tcp', host: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
  }
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { endpoint, requests, sockets };
}

const STATUS_REASONS = { 404: 'no such container', 500: 'server error', 501: 'logs not implemented' };

function open(endpoint: PlainDockerEndpoint, options: { signal?: AbortSignal; headTimeoutMs?: number } = {}) {
  return requestRawLogs({
    endpoint,
    path: '/containers/abc/logs?follow=false&stdout=true',
    signal: options.signal ?? new AbortController().signal,
    headTimeoutMs: options.headTimeoutMs ?? 5_000,
    timeoutError: new Error('no head in time'),
    statusReasons: STATUS_REASONS,
    onSocket: () => undefined,
  });
}

async function readAll(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

const closed = (socket: net.Socket) =>
  socket.destroyed ? Promise.resolve() : new Promise<void>((resolve) => socket.once('close', () => resolve()));

t.test('the request is HTTP/1.0, and the body is what follows the head, however the reads split it', async (t) => {
  const { endpoint, requests } = await fakeDaemon(t, (socket) => {
    // The head's end is split across writes, the body's first bytes come with it.
    socket.write('HTTP/1.0 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r');
    setTimeout(() => socket.write('\n\r\nfirst '), 20);
    setTimeout(() => socket.end('second'), 40);
  });
  t.equal(await readAll(await open(endpoint)), 'first second');
  t.match(requests[0], /^GET \/containers\/abc\/logs\?follow=false&stdout=true HTTP\/1\.0\r\nHost: docker\r\n/);

  const whole = await fakeDaemon(t, (socket) => socket.end('HTTP/1.1 200 OK\r\n\r\nall in one read'));
  t.equal(await readAll(await open(whole.endpoint)), 'all in one read', 'head, body and end in one read');
  const empty = await fakeDaemon(t, (socket) => socket.end('HTTP/1.0 200 OK\r\nServer: x\r\n\r\n'));
  t.equal(await readAll(await open(empty.endpoint)), '', 'an empty body');
});

t.test('plain TCP: the same, with the host and port as Host', async (t) => {
  const { endpoint, requests } = await fakeDaemon(t, (socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nover tcp'), 'tcp');
  t.equal(await readAll(await open(endpoint)), 'over tcp');
  t.match(requests[0], new RegExp(`\r\nHost: 127\\.0\\.0\\.1:${(endpoint as { port: number }).port}\r\n`));
});

t.test("error answers reject as docker-modem's did, and map to the same plugin-api errors", async (t) => {
  const answers: Record<number, string> = {
    404: '{"message":"No such container: abc"}\n',
    500: '{"message":"something broke"}\n',
    501: '{"message":"configured logging driver does not support reading"}\n',
  };
  for (const [status, body] of Object.entries(answers)) {
    const { endpoint } = await fakeDaemon(t, (socket) =>
      socket.end(
        `HTTP/1.0 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ),
    );
    const err = await open(endpoint).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.equal(httpStatusOf(err), Number(status), `${status}: the status`);
    t.equal(dockerMessage(err), JSON.parse(body).message, `${status}: Docker's message`);
    t.match((err as Error).message, `(HTTP code ${status}) ${STATUS_REASONS[Number(status) as 404]} - `);
    t.notOk(isConnectionFailure(err), `${status}: not a connection failure`);
  }
  const notFound = await fakeDaemon(t, (socket) => socket.end(`HTTP/1.0 404 Not Found\r\n\r\n${answers[404]}`));
  const err = await open(notFound.endpoint).catch((e: unknown) => e);
  t.match(toEngineError(err, 'abc'), { code: 'CONTAINER_NOT_FOUND' }, 'a 404 without Content-Length: read to the end');
  const unsupported = await fakeDaemon(t, (socket) => socket.end(`HTTP/1.0 501 X\r\n\r\n${answers[501]}`));
  t.match(toEngineError(await open(unsupported.endpoint).catch((e: unknown) => e), 'abc'), {
    code: 'LOGS_UNSUPPORTED',
    message: /does not support reading/,
  });
  const failed = await fakeDaemon(t, (socket) => socket.end(`HTTP/1.0 500 X\r\n\r\n${answers[500]}`));
  t.match(toEngineError(await open(failed.endpoint).catch((e: unknown) => e), 'abc'), {
    code: 'INTERNAL',
    message: 'Docker failed: something broke',
  });
});

t.test('a malformed or oversized head is a clear error, and the connection is dropped', async (t) => {
  for (const [what, bytes] of [
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['a broken header line', 'HTTP/1.0 200 OK\r\nno colon here\r\n\r\n'],
    ['a chunked 200', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'],
  ] as const) {
    const { endpoint, sockets } = await fakeDaemon(t, (socket) => socket.write(bytes));
    await t.rejects(open(endpoint), { code: 'INTERNAL', message: /answered a logs request with/ }, what);
    await closed(sockets[0]!);
    t.pass(`${what}: the connection is closed`);
  }
  const { endpoint, sockets } = await fakeDaemon(t, (socket) => {
    socket.write('HTTP/1.0 200 OK\r\n');
    socket.write(`X-Padding: ${'x'.repeat(MAX_HEAD_BYTES)}\r\n`);
  });
  await t.rejects(open(endpoint), { code: 'INTERNAL', message: /a head of over 16384 bytes/ }, 'an oversized head');
  await closed(sockets[0]!);
});

t.test('abort mid-body: the socket is destroyed, the reader stops', async (t) => {
  const { endpoint, sockets } = await fakeDaemon(t, (socket) => socket.write('HTTP/1.0 200 OK\r\n\r\nsome'));
  const abort = new AbortController();
  const body = await open(endpoint, { signal: abort.signal });
  const read: Buffer[] = [];
  await t.rejects(
    (async () => {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        read.push(chunk);
        abort.abort(new Error('client gone'));
      }
    })(),
    { code: 'ERR_STREAM_PREMATURE_CLOSE' },
  );
  t.equal(Buffer.concat(read).toString(), 'some');
  t.ok(body.destroyed);
  await closed(sockets[0]!);
  t.pass('the daemon side sees the connection closed');
});

t.test("abort before the head: rejects with the signal's reason, the connection dropped", async (t) => {
  const { endpoint, sockets, requests } = await fakeDaemon(t, () => undefined);
  const abort = new AbortController();
  const opening = open(endpoint, { signal: abort.signal });
  while (requests.length === 0) await new Promise((r) => setTimeout(r, 5));
  const reason = new Error('client gone');
  abort.abort(reason);
  t.equal(await opening.catch((e: unknown) => e), reason);
  await closed(sockets[0]!);
  t.pass('closed');
  const already = new AbortController();
  already.abort(reason);
  t.equal(await open(endpoint, { signal: already.signal }).catch((e: unknown) => e), reason, 'aborted before it began');
});

t.test('no head within the timeout: rejects with the timeout error, the connection dropped', async (t) => {
  const { endpoint, sockets } = await fakeDaemon(t, (socket) => socket.write('HTTP/1.0 200 OK\r\n'));
  const started = performance.now();
  await t.rejects(open(endpoint, { headTimeoutMs: 200 }), { message: 'no head in time' });
  t.ok(performance.now() - started < 2_000);
  await closed(sockets[0]!);
  // The body itself never times out.
  const slow = await fakeDaemon(t, (socket) => {
    socket.write('HTTP/1.0 200 OK\r\n\r\n');
    setTimeout(() => socket.end('late'), 400);
  });
  t.equal(await readAll(await open(slow.endpoint, { headTimeoutMs: 200 })), 'late');
});

t.test('connection failures keep their codes: isConnectionFailure knows them', async (t) => {
  const missing = await open({ kind: 'unix', socketPath: '/tmp/egm-raw-no-such/docker.sock' }).catch((e: unknown) => e);
  t.match(missing, { code: 'ENOENT' });
  t.ok(isConnectionFailure(missing));
  const { endpoint } = await fakeDaemon(t, (socket) => socket.end('HTTP/1.0 2'));
  const hungUp = await open(endpoint).catch((e: unknown) => e);
  t.match(hungUp, { code: 'ECONNRESET' }, 'closed before the head was whole');
  t.ok(isConnectionFailure(hungUp));
  const refused = await open({ kind: 'tcp', host: '127.0.0.1', port: 1 }).catch((e: unknown) => e);
  t.match(refused, { code: 'ECONNREFUSED' });
});

t.test("DockerClient: logs over the raw request, and close() drops the body's socket", async (t) => {
  const { endpoint, requests, sockets } = await fakeDaemon(t, (socket) =>
    socket.write('HTTP/1.0 200 OK\r\n\r\nstreaming'),
  );
  if (endpoint.kind !== 'unix') throw new Error('unix expected');
  const client = new DockerClient(endpoint, 1_000);
  const body = await client.openLogs(
    'abc',
    { follow: true, stdout: true, stderr: true, timestamps: true, tail: '5' },
    new AbortController().signal,
  );
  t.match(
    requests[0],
    /^GET \/containers\/abc\/logs\?follow=true&stdout=true&stderr=true&timestamps=true&tail=5 HTTP\/1\.0/,
  );
  client.close();
  t.ok(body.destroyed, 'the body is destroyed');
  await closed(sockets[0]!);
  t.pass('the daemon side sees the connection closed');
});
