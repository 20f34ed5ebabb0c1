// A client that stops reading while a container writes 50 MiB: the gateway stops pulling, its
// memory stays bounded, and once the client reads again it gets every line, in order.
// The gateway runs in a child process so that its memory is measured apart from the client's.
import t from 'tap';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LogsClient } from '@enginegate/test-client';
import { sleep } from './fixtures/harness.js';

const LINE_COUNT = 50 * 1024; // × 1 KiB = 50 MiB
const LINE_BYTES = 1024;
const MiB = 1024 * 1024;
const TOKEN = 'backpressure-token';

interface Memory {
  rss: number;
  heapAndExternal: number;
}

function request<T>(child: ChildProcess, message: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', onMessage);
        resolve(m[key] as T);
      }
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

async function bytesSent(client: LogsClient): Promise<number> {
  const { text } = await client.get('/metrics');
  const match = /enginegate_bytes_sent_total\{transport="websocket",framing="binary"\} (\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

t.test('a paused client: bounded gateway memory, then every line in order', { timeout: 60_000 }, async (t) => {
  const child = fork(fileURLToPath(new URL('./fixtures/backpressure-gateway.mjs', import.meta.url)), [], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, TEST_TOKEN: TOKEN, LINE_COUNT: String(LINE_COUNT) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const ready = await new Promise<{ url: string; memory: Memory }>((resolve) =>
    child.once('message', resolve as never),
  );
  const client = new LogsClient(ready.url, TOKEN);

  // Warm the code path (framing, sends, the engine's reader) so that the baseline has it loaded.
  await client.logsSocket('warm-up', { follow: false }, ['v1.binary.enginegate']).closed;
  // Before the stream exists: what the gateway costs at rest.
  const baseline = await request<Memory>(child, 'memory', 'memory');
  const sentBefore = await bytesSent(client);

  const stream = client.logsSocket('firehose', {}, ['v1.binary.enginegate']);
  // The container must exist before the stream opens; it starts writing on creation.
  await request(child, 'start-writing', 'writing');
  await stream.opened;
  const socket = (stream.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();

  // The container writes all 50 MiB within ~0.5 s; give the gateway ample time to (not) buffer it.
  await sleep(2000);
  const paused = await request<Memory>(child, 'memory', 'memory');
  const sentWhilePaused = (await bytesSent(client)) - sentBefore;
  const heapGrowth = (paused.heapAndExternal - baseline.heapAndExternal) / MiB;
  const rssGrowth = (paused.rss - baseline.rss) / MiB;
  t.comment(
    `baseline: heap+external ${(baseline.heapAndExternal / MiB).toFixed(1)} MiB, rss ${(baseline.rss / MiB).toFixed(1)} MiB`,
  );
  t.comment(
    `paused: heap+external +${heapGrowth.toFixed(1)} MiB, rss +${rssGrowth.toFixed(1)} MiB, ${(sentWhilePaused / MiB).toFixed(1)} MiB handed to the socket`,
  );
  t.ok(heapGrowth < 20, `gateway heap+external grew ${heapGrowth.toFixed(1)} MiB (< 20 MiB)`);
  t.ok(rssGrowth < 20, `gateway rss grew ${rssGrowth.toFixed(1)} MiB (< 20 MiB)`);
  t.ok(sentWhilePaused < 20 * MiB, 'the source was not pulled past the high-water mark (+ kernel buffers)');

  socket.resume();
  t.equal((await stream.closed).code, 1000, 'the stream ends normally once the container exited');
  const received = stream.messages.map((m) => m.data);
  const lines = received.filter((m) => m[0] === 1);
  t.equal(lines.length, LINE_COUNT, 'every line arrived');
  let inOrder = true;
  for (let i = 0; i < lines.length && inOrder; i++) {
    const line = lines[i]!;
    inOrder = line.length === 1 + LINE_BYTES && line.subarray(1, 9).toString() === String(i).padStart(8, '0');
  }
  t.ok(inOrder, 'in order, each line whole');
  const last = received[received.length - 1]!;
  t.same(
    [last[0], JSON.parse(last.subarray(1).toString())],
    [3, { type: 'exit', exitCode: 0 }],
    'then the exit record',
  );

  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
});
