// Through the gateway: containerd killed under a follow and an events stream (1012, then 503,
// then served again, the events with the containers present),
// and 1,000 logs sockets opened and closed leaving no descriptor and no stream behind.
import t from 'tap';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerdForTest, uniqueId, waitForFile } from '@enginegate/test-harness/containerd';
import type { ContainerdEngine } from '@enginegate/plugin-containerd';
import type { LogSocket } from '@enginegate/test-client';
import { openFdCount } from './fixtures/engine-support.js';
import { startGateway } from './fixtures/gateway.js';

// Real daemons on a loaded 2-core CI machine: more than tap's default 30 s per file.
t.setTimeout(120_000);

const cd = await containerdForTest(t);
if (cd) {
  const { gw, client } = await startGateway(cd);
  t.teardown(() => gw.close());

  const id = uniqueId('long');
  const log = join(cd.logDir, `${id}.log`);
  await cd.runTask({ id, logUri: `file://${log}`, script: 'echo ready; while :; do sleep 0.2; echo tick; done' });
  await waitForFile(log, 6);

  const synced = (socket: LogSocket) =>
    socket.waitFor((m) => m.some((x) => x.data.toString() === '{"type":"synced"}'), 'events synced');

  t.test('killed mid-follow: 1012; 503 while down; served again once back', async (t) => {
    const stream = await client.openSocket(id, { follow: true }, 'json');
    const events = client.socket('/passthrough/engine/events', ['v1.json.enginegate']);
    await stream.waitForMessages(2);
    await synced(events);
    await cd.kill();
    const result = await stream.closed;
    t.equal(result.code, 1012, `closed 1012 (${result.reason})`);
    t.equal((await events.closed).code, 1012, 'the events stream closes 1012 too');

    const down = await client.get(`/passthrough/engine/logs/${id}?follow=false`);
    t.equal(down.status, 503);
    t.ok(down.headers.get('retry-after'), 'Retry-After is set');
    t.match(down.json, { error: { code: 'ENGINE_UNAVAILABLE' } });

    await cd.start();
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await client.get(`/passthrough/engine/logs/${id}?follow=false&tail=1`)).status;
      if (status === 200) break;
      await sleep(100);
    }
    t.equal(status, 200, 'served again after the restart');
    const again = await client.openSocket(id, { follow: true, tail: 1 }, 'json');
    await again.waitForMessages(2);
    again.socket.close(); // no close code: the gateway's answer carries none either (1005)
    t.equal((await again.closed).code, 1005, 'a follow works again');
    const eventsAgain = client.socket('/passthrough/engine/events', ['v1.json.enginegate']);
    await synced(eventsAgain);
    t.ok(
      eventsAgain.jsonMessages().some((r) => r['action'] === 'present' && r['container']['id'] === id),
      'events again, the running task present',
    );
    eventsAgain.close();
    await eventsAgain.closed;
  });

  t.test('1,000 WebSocket open/close cycles leave nothing behind', async (t) => {
    const cycle = async () => {
      const stream = await client.openSocket(id, { follow: true, tail: 1 }, 'json');
      await stream.waitForMessages(1);
      stream.socket.close();
      await stream.closed;
    };
    await cycle();
    await sleep(200);
    const before = await openFdCount();
    const started = Date.now();
    for (let i = 0; i < 1000; i++) await cycle();
    const perCycle = (Date.now() - started) / 1000;
    const deadline = Date.now() + 5000;
    let after = await openFdCount();
    while (after !== before && Date.now() < deadline) {
      await sleep(100);
      after = await openFdCount();
    }
    t.equal(after, before, 'no descriptor left (server and client side)');
    const engine = gw.engines.snapshot().engine as ContainerdEngine;
    t.same(
      engine.resources,
      { openStreams: 0, subscriptions: 1, taskWatches: 0, eventStreams: 0 },
      'no log stream, task watch, events iterable or extra subscription',
    );
    t.comment(`WebSocket open → first line → close: ${perCycle.toFixed(2)} ms per cycle`);
  });
}
