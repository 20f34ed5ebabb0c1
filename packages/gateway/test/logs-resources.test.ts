// Closing the client releases the engine source and every handle: after 1,000 open/close cycles
// the gateway is back where it started.
import t from 'tap';
import type {} from '@fastify/websocket'; // gw.app.websocketServer
import type { MockEngine } from '@enginegate/plugin-mock';
import { eventually, startGateway } from './fixtures/harness.js';

const resources = () => process.getActiveResourcesInfo().length;

t.test('1,000 WebSocket open/close cycles leave no reader, stream or handle behind', async (t) => {
  const { gw, client } = await startGateway(t);
  const mock = gw.engines.snapshot().engine as MockEngine;
  const path = '/passthrough/engine/logs/mock-chatty?tail=1';
  const framings = [[], ['v1.text.enginegate'], ['v1.json.enginegate'], ['v1.binary.enginegate']];

  // Warm up (lazy module loads, the first timers), then take the baseline.
  const warm = client.socket(path, ['v1.json.enginegate']);
  await warm.waitForMessages(1);
  warm.close();
  await warm.closed;
  t.ok(await eventually(() => mock.activeReaders === 0 && gw.openStreams === 0));
  const resourcesBefore = resources();
  const readersBefore = mock.activeReaders;

  const cycle = async (i: number) => {
    const stream = client.socket(path, framings[i % 4]);
    await stream.opened;
    switch (i % 3) {
      case 0: // read a line, close cleanly
        await stream.waitForMessages(1);
        stream.close(1000);
        break;
      case 1: // close at once, before reading anything
        stream.close(1000);
        break;
      default: // vanish without a close frame
        stream.socket.terminate();
    }
    await stream.closed;
  };
  // Ten at a time: fast, and still 1,000 distinct streams.
  for (let i = 0; i < 1000; i += 10) {
    await Promise.all(Array.from({ length: 10 }, (_, j) => cycle(i + j)));
  }

  t.ok(
    await eventually(() => mock.activeReaders === readersBefore, 5000),
    `mock readers back to ${readersBefore} (now ${mock.activeReaders})`,
  );
  t.ok(await eventually(() => gw.openStreams === 0, 5000), 'no open stream');
  t.ok(
    await eventually(() => resources() <= resourcesBefore, 5000),
    `active resources back to ${resourcesBefore} (now ${resources()}: ${process.getActiveResourcesInfo().join(', ')})`,
  );
  t.equal(gw.app.websocketServer.clients.size, 0, 'no WebSocket left on the server');
});

t.test('a client message over 4 KiB closes the socket 1009 and releases the source', async (t) => {
  const { gw, client } = await startGateway(t);
  const mock = gw.engines.snapshot().engine as MockEngine;
  const stream = client.socket('/passthrough/engine/logs/mock-chatty?tail=0', ['v1.text.enginegate']);
  await stream.opened;
  stream.socket.send('small messages are read and discarded');
  stream.socket.send(Buffer.alloc(5000));
  t.equal((await stream.closed).code, 1009);
  t.ok(await eventually(() => mock.activeReaders === 0 && gw.openStreams === 0, 2000));
});

t.test('a silent peer is dropped after two ping intervals and its source released', async (t) => {
  const { gw, client } = await startGateway(t, { pingIntervalMs: 100 });
  const mock = gw.engines.snapshot().engine as MockEngine;
  const answering = client.socket('/passthrough/engine/logs/mock-chatty?tail=0', ['v1.text.enginegate']);
  const silent = client.socket('/passthrough/engine/logs/mock-chatty?tail=0', ['v1.text.enginegate']);
  await Promise.all([answering.opened, silent.opened]);
  // ws answers pings automatically; a client whose socket stops reading never answers.
  (silent.socket as unknown as { _socket: { pause(): void } })._socket.pause();
  const started = Date.now();
  t.ok(await eventually(() => mock.activeReaders === 1 && gw.openStreams === 1, 3000), 'the silent peer was dropped');
  t.ok(Date.now() - started >= 150, 'not before it was silent for two intervals');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(answering.socket.readyState, answering.socket.OPEN, 'a peer that answers pings stays');
  answering.socket.close();
  silent.socket.terminate();
});

t.test('maxStreams: one more WebSocket is closed 1013, one more HTTP request is a 503', async (t) => {
  const { gw, client } = await startGateway(t, { maxStreams: 3 });
  const clients = [1, 2, 3].map(() =>
    client.socket('/passthrough/engine/logs/mock-chatty?tail=0', ['v1.text.enginegate']),
  );
  await Promise.all(clients.map((c) => c.opened));
  t.equal(gw.openStreams, 3);
  const extra = client.socket('/passthrough/engine/logs/mock-chatty?tail=0', ['v1.text.enginegate']);
  const closed = await extra.closed;
  t.equal(closed.code, 1013);
  t.match(closed.reason, /too many open log streams/);
  const plain = await client.get('/passthrough/engine/logs/mock-chatty?tail=0');
  t.equal(plain.status, 503);
  t.equal(plain.json.error.code, 'TOO_MANY_STREAMS');
  t.ok(plain.headers.get('retry-after'));
  for (const c of clients) c.close();
  await Promise.all(clients.map((c) => c.closed));
  t.ok(await eventually(() => gw.openStreams === 0));
});
