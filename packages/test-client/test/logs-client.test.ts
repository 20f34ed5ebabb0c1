// The test client against a small stand-in server (http + ws): what it records, how it reports
// a refused upgrade, its waits and their timeouts, and its HTTP requests.
import t, { type Test } from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { HttpStatusError, LogsClient } from '@enginegate/test-client';

interface StandIn {
  url: string;
  /** The requests (HTTP and upgrades) the server saw. */
  seen: IncomingMessage[];
  /** What the server does with each accepted WebSocket. */
  onSocket: (ws: WebSocket, request: IncomingMessage) => void;
}

async function standIn(t: Test): Promise<StandIn> {
  const state: StandIn = { url: '', seen: [], onSocket: () => {} };
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    state.seen.push(req);
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      if (req.url?.endsWith('/chunks')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('one\n');
        setTimeout(() => res.end('two\n'), 150);
        return;
      }
      const body = Buffer.concat(parts).toString();
      const answer = req.url === '/text' ? 'not json' : JSON.stringify({ method: req.method, url: req.url, body });
      res.writeHead(req.url === '/text' ? 200 : 201, { 'x-seen': 'yes', 'set-cookie': ['a=1', 'b=2'] });
      res.end(answer);
    });
  });
  server.on('upgrade', (req, socket, head) => {
    state.seen.push(req);
    if (req.url?.includes('refuse')) {
      const body = JSON.stringify({ error: { code: 'ENGINE_UNAVAILABLE', message: 'no engine' } });
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => state.onSocket(ws, req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

t.test('a socket records text and binary messages in order, then the close code and reason', async (t) => {
  const server = await standIn(t);
  server.onSocket = (ws) => {
    ws.send('{"type":"line","line":"a"}');
    ws.send(Buffer.from([1, 0xff]), { binary: true });
    ws.close(1000, 'end of logs');
  };
  const socket = new LogsClient(server.url, 'tok').logsSocket('web', { follow: false, tail: undefined }, ['v1.x']);
  await socket.opened;
  t.same(await socket.closed, { code: 1000, reason: 'end of logs' });
  t.same(
    socket.messages.map((m) => m.isBinary),
    [false, true],
  );
  t.ok(socket.messages[0]!.at <= socket.messages[1]!.at, 'arrival times in order');
  t.same(JSON.parse(socket.texts()[0]!), { type: 'line', line: 'a' });
  t.same(socket.messages[1]!.data, Buffer.from([1, 0xff]));
  t.ok(socket.isClosed);
  const upgrade = server.seen[0]!;
  t.equal(upgrade.url, '/passthrough/engine/logs/web?follow=false', 'the query, without undefined parameters');
  t.equal(upgrade.headers.authorization, 'Bearer tok');
  t.equal(upgrade.headers['sec-websocket-protocol'], 'v1.x');
});

t.test('a client without a token sends no Authorization header', async (t) => {
  const server = await standIn(t);
  server.onSocket = (ws) => ws.close(1000);
  await new LogsClient(server.url).socket('/anything').closed;
  await new LogsClient(server.url).get('/plain');
  t.same(
    server.seen.map((r) => r.headers.authorization),
    [undefined, undefined],
  );
});

t.test('a refused upgrade: opened rejects with the status, headers and JSON error', async (t) => {
  const server = await standIn(t);
  const client = new LogsClient(server.url, 'tok');
  const err = await client.openSocket('refuse', {}, 'json').then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof HttpStatusError);
  const refusal = err as HttpStatusError;
  t.equal(refusal.status, 503);
  t.equal(refusal.headers['retry-after'], '1');
  t.same(refusal.error, { code: 'ENGINE_UNAVAILABLE', message: 'no engine' });
  t.match(refusal.message, /^HTTP 503: /);

  const answer = await client.refusedUpgrade('/refuse/y');
  t.equal(answer.status, 503);
  t.equal(answer.headers.get('retry-after'), '1');
  t.equal(answer.json.error.code, 'ENGINE_UNAVAILABLE');
  await t.rejects(client.refusedUpgrade('/accepted'), /was accepted/, 'an accepted upgrade is an error');
});

t.test('waits: for a count (or the close), for a predicate, for the close; each with a timeout', async (t) => {
  const server = await standIn(t);
  const sockets: WebSocket[] = [];
  server.onSocket = (ws) => sockets.push(ws);
  const client = new LogsClient(server.url, 'tok');

  const counted = client.socket('/a');
  await counted.opened;
  sockets[0]!.send('1');
  sockets[0]!.send('2');
  await counted.waitForMessages(2);
  t.same(counted.jsonMessages(), [1, 2]);
  await t.rejects(counted.waitForMessages(3, 100), /timed out after 100 ms with 2 of 3 messages/);
  await t.rejects(
    counted.waitFor((m) => m.length > 5, 'six messages', 100),
    /timed out after 100 ms/,
  );
  await t.rejects(counted.waitClosed(100), /did not close the stream within 100 ms/);
  t.ok((await counted.closed).code !== 1000, 'a timed-out waitClosed terminates the socket');

  const ending = client.socket('/b');
  await ending.opened;
  sockets[1]!.close(1012, 'engine switched');
  await ending.waitForMessages(5);
  t.equal(ending.messages.length, 0, 'the close ends a wait for messages');
  await t.rejects(
    ending.waitFor(() => false, 'a line'),
    /socket closed \(1012 engine switched\) before a line/,
  );
  t.same(await ending.waitClosed(), { code: 1012, reason: 'engine switched' });
});

t.test('requests: JSON or raw bodies, headers as Headers, JSON or text answers, no keep-alive', async (t) => {
  const server = await standIn(t);
  const client = new LogsClient(server.url, 'tok');
  const put = await client.request('PUT', '/engine', { name: 'mock' });
  t.equal(put.status, 201);
  t.same(put.json, { method: 'PUT', url: '/engine', body: '{"name":"mock"}' });
  t.equal(put.headers.get('x-seen'), 'yes');
  t.equal(put.headers.get('set-cookie'), 'a=1, b=2', 'repeated headers kept');
  t.equal(server.seen[0]!.headers['content-type'], 'application/json');
  t.equal(server.seen[0]!.headers.connection, 'close', 'a connection of its own');

  const raw = await client.request('PUT', '/engine', '{not json', { 'Content-Type': 'text/plain' });
  t.equal(raw.json.body, '{not json', 'a string body is sent as it is');
  t.equal(server.seen[1]!.headers['content-type'], 'text/plain', 'a given content type is kept');

  const text = await client.get('/text');
  t.equal(text.text, 'not json');
  t.equal(text.json, 'not json', 'a body that is not JSON: json is the text');
  t.equal(server.seen[2]!.headers.authorization, 'Bearer tok');
});

t.test('readHttp collects the body in chunks with their arrival times', async (t) => {
  const server = await standIn(t);
  const client = new LogsClient(server.url, 'tok');
  t.equal(
    client.logsUrl('c', { tail: 3 }, 'ws'),
    `${server.url.replace('http', 'ws')}/passthrough/engine/logs/c?tail=3`,
  );
  const response = await client.readHttp('chunks', {});
  t.equal(response.status, 200);
  t.equal(response.body.toString(), 'one\ntwo\n');
  t.ok(response.chunks.length >= 2, 'two chunks');
  t.ok(response.chunks.at(-1)!.at - response.chunks[0]!.at >= 100, 'the second came later');
});
