// Faults of a private dockerd under a WebSocket follower and an NDJSON follower of a container
// writing lines: SIGSTOP (a hung daemon) short and long, SIGCONT, and SIGKILL. Each ends with
// what the clients together received compared with `docker logs` (no line lost or repeated),
// the gateway serving again, and no stream or descriptor left. (plugins/moby/test/engine-lost
// covers a WebSocket's 1012 under SIGTERM/SIGKILL and the 503 while down; this adds the hung
// daemon, the NDJSON follower, the bounds and the leak counts.)
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGateway, type Gateway } from '@enginegate/gateway';
import mobyPlugin from '@enginegate/plugin-moby';
import { dockerdForTest, runBusybox, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { freezeDaemon } from '@enginegate/test-harness/daemon-process';
import { LogsClient, type LogSocket } from '@enginegate/test-client';
import {
  assertConsecutive,
  assertNothingLeaked,
  followNdjson,
  lastCursor,
  lineTexts,
  openFds,
  socketLines,
  waitUntil,
  type JsonRecord,
  type NdjsonFollower,
} from './fixtures/fault-support.js';

const TOKEN = 't';
const HEALTH_INTERVAL_MS = 500;
/** Health poll interval + its 2 s timeout + slack for a loaded 2-core machine (measured: see docs/faults.md). */
const LOSS_BOUND_MS = 5000;
const run = promisify(execFile);

t.setTimeout(150_000);
const dockerd = await dockerdForTest(t);
if (dockerd) await suite(dockerd);

async function dockerLogs(dockerd: PrivateDockerd, name: string): Promise<string[]> {
  const { stdout } = await run('docker', ['-H', dockerd.host, 'logs', name], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\n').filter((l) => l.length > 0);
}

/** `seen` is one unbroken stretch of `docker logs`: nothing lost, nothing repeated. */
async function assertStretchOfDockerLogs(t: Test, dockerd: PrivateDockerd, name: string, seen: string[]) {
  const all = await dockerLogs(dockerd, name);
  const from = all.indexOf(seen[0]!);
  t.ok(from >= 0, `the first line seen (${seen[0]}) is in docker logs`);
  t.same(seen, all.slice(from, from + seen.length), `${seen.length} lines, exactly docker logs from ${seen[0]}`);
}

interface Followers {
  ws: LogSocket;
  ndjson: NdjsonFollower;
}

async function follow(client: LogsClient, name: string, query: Record<string, string | number>): Promise<Followers> {
  const ws = client.logsSocket(name, query, ['v1.json.enginegate']);
  const ndjson = followNdjson(client, name, query);
  await ws.waitForMessages(3);
  await waitUntil('NDJSON lines', () => lineTexts(ndjson.records).length >= 3);
  return { ws, ndjson };
}

async function closeFollowers({ ws, ndjson }: Followers): Promise<void> {
  ws.close();
  ndjson.stop();
  await ws.closed;
  await ndjson.ended;
}

async function suite(dockerd: PrivateDockerd): Promise<void> {
  const gw = await createGateway({
    port: 0,
    token: TOKEN,
    plugins: [mobyPlugin],
    engine: 'moby',
    pluginConfig: { moby: { dockerSocket: dockerd.socket } },
    healthIntervalMs: HEALTH_INTERVAL_MS,
    logger: false,
  });
  const client = new LogsClient(await gw.listen(), TOKEN);
  t.teardown(() => gw.close());
  const name = 'fault-ticker';
  await runBusybox(dockerd, 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.02; done', { name });
  // One request first: the gateway's engine client is then connected.
  await client.get(`/passthrough/engine/logs/${name}?follow=false&tail=1`);
  const fdsBefore = await openFds();

  t.test('SIGSTOP shorter than a health check: both followers pause, then go on with no line lost', async (t) => {
    const followers = await follow(client, name, { tail: 0 });
    const thaw = freezeDaemon(dockerd);
    await sleep(300);
    thaw();
    const seenAtThaw = socketLines(followers.ws).length;
    await followers.ws.waitFor(() => socketLines(followers.ws).length >= seenAtThaw + 20, '20 lines after SIGCONT');
    await waitUntil('NDJSON lines after SIGCONT', () => lineTexts(followers.ndjson.records).length >= seenAtThaw + 20);
    t.notOk(followers.ws.isClosed, 'the WebSocket stayed open');
    t.notOk(
      followers.ndjson.records.some((r) => r['type'] !== 'line'),
      'the NDJSON follower got lines only (no gap, no error)',
    );
    assertConsecutive(t, socketLines(followers.ws), 'tick', 'WebSocket');
    assertConsecutive(t, lineTexts(followers.ndjson.records), 'tick', 'NDJSON');
    await closeFollowers(followers);
    await assertNothingLeaked(t, gw, fdsBefore);
  });

  t.test('SIGSTOP held: 1012 and an error record within the bound, 503 meanwhile; SIGCONT: resumed exactly', (t) =>
    loseAndRecover(t, gw, client, dockerd, name, 'stop', fdsBefore),
  );
  t.test('SIGKILL: 1012 and an error record within the bound, 503 while down; restarted: resumed exactly', (t) =>
    loseAndRecover(t, gw, client, dockerd, name, 'kill', fdsBefore),
  );
}

async function loseAndRecover(
  t: Test,
  gw: Gateway,
  client: LogsClient,
  dockerd: PrivateDockerd,
  name: string,
  fault: 'stop' | 'kill',
  fdsBefore: number,
): Promise<void> {
  const followers = await follow(client, name, { tail: 0 });
  const lostAt = performance.now();
  const thaw = fault === 'stop' ? freezeDaemon(dockerd) : undefined;
  t.teardown(() => thaw?.());
  if (fault === 'kill') await dockerd.kill();
  // A request in the window before the gateway noticed: how long it waits, and what it gets.
  const early = client.get(`/passthrough/engine/logs/${name}?follow=false&tail=1`);

  const { code, reason } = await followers.ws.waitClosed(LOSS_BOUND_MS + 5000);
  const wsMs = performance.now() - lostAt;
  t.equal(code, 1012, `WebSocket closed 1012 (${reason})`);
  t.ok(wsMs < LOSS_BOUND_MS, `within ${LOSS_BOUND_MS} ms: ${wsMs.toFixed(0)} ms`);
  const ended = await followers.ndjson.ended;
  const ndjsonMs = ended.at - lostAt;
  const last = followers.ndjson.records.at(-1);
  t.match(last, { type: 'error', code: 'ENGINE_UNAVAILABLE' }, 'the NDJSON body ends with an error record');
  t.notOk(ended.cutOff, 'and ends cleanly after it');
  t.ok(ndjsonMs < LOSS_BOUND_MS, `within ${LOSS_BOUND_MS} ms: ${ndjsonMs.toFixed(0)} ms`);
  const earlyAnswer = await early;
  const earlyMs = performance.now() - lostAt;
  t.equal(earlyAnswer.status, 503, `a request made at the loss: 503 after ${earlyMs.toFixed(0)} ms`);
  const later = performance.now();
  const down = await client.get(`/passthrough/engine/logs/${name}?follow=false`);
  t.equal(down.status, 503, `a request once noticed: 503 in ${(performance.now() - later).toFixed(0)} ms`);
  t.ok(down.headers.get('retry-after'), 'with Retry-After');
  t.equal(gw.engines.status.state, 'unavailable');
  t.comment(
    `${fault}: 1012 after ${wsMs.toFixed(0)} ms, NDJSON error after ${ndjsonMs.toFixed(0)} ms, ` +
      `early request 503 after ${earlyMs.toFixed(0)} ms`,
  );

  const backAt = performance.now();
  if (thaw) thaw();
  else {
    await dockerd.start();
    // Without live-restore, the container went down with the daemon: start it again.
    await dockerd.docker.getContainer(name).start();
  }
  await waitUntil('the engine to run again', () => gw.engines.status.state === 'running');
  t.comment(`${fault}: running again ${(performance.now() - backAt).toFixed(0)} ms after SIGCONT/restart began`);

  // Each client reconnects with after= its last cursor, as the viewer and the CLI do.
  const wsBefore = socketLines(followers.ws);
  const ndjsonBefore = lineTexts(followers.ndjson.records);
  const again: Followers = {
    ws: client.logsSocket(name, { after: lastCursor(followers.ws.jsonMessages() as JsonRecord[]) }, [
      'v1.json.enginegate',
    ]),
    ndjson: followNdjson(client, name, { after: lastCursor(followers.ndjson.records) }),
  };
  await again.ws.waitFor(() => socketLines(again.ws).length >= 20, '20 lines after resuming');
  await waitUntil('NDJSON lines after resuming', () => lineTexts(again.ndjson.records).length >= 20);
  await closeFollowers(again);
  await assertStretchOfDockerLogs(t, dockerd, name, [...wsBefore, ...socketLines(again.ws)]);
  await assertStretchOfDockerLogs(t, dockerd, name, [...ndjsonBefore, ...lineTexts(again.ndjson.records)]);
  await assertNothingLeaked(t, gw, fdsBefore);
}
