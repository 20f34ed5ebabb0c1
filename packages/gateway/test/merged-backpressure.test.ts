// A merged client that stops reading while 10 members write 10 MiB each: the gateway pulls
// each member only as fast as the client reads, so its memory stays bounded (members × batch,
// not 100 MiB), and once the client reads again it gets every line, each member in order.
// The gateway runs in a child process so that its memory is measured apart from the client's.
import t, { type Test } from 'tap';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LogsClient } from '@enginegate/test-client';
import { sleep } from './fixtures/harness.js';

const MEMBER_COUNT = 10;
const LINE_COUNT = 10 * 1024; // × 1 KiB = 10 MiB a member
const LINE_BYTES = 1024;
const MiB = 1024 * 1024;
const TOKEN = 'merged-backpressure-token';
const BINARY = 'v1.binary.enginegate';

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

/** Binary merged framing: stream byte, member index (4 bytes BE), line; byte 3 is a control record. */
function checkLines(t: Test, messages: Buffer[]): void {
  const next = new Map<number, number>();
  const members = new Map<number, string>();
  const leaves: Array<[string, number | undefined]> = [];
  let broken = '';
  for (const message of messages) {
    if (message[0] === 3) {
      const record = JSON.parse(message.subarray(1).toString()) as {
        type: string;
        index: number;
        name: string;
        exitCode?: number;
      };
      if (record.type === 'join') members.set(record.index, record.name);
      if (record.type === 'leave') leaves.push([record.name, record.exitCode]);
      continue;
    }
    const index = message.readUInt32BE(1);
    const line = message.subarray(5);
    const member = Number(members.get(index)?.slice('slow-'.length));
    const expected = next.get(index) ?? 0;
    const prefix = `${String(member).padStart(2, '0')} ${String(expected).padStart(8, '0')} `;
    if (broken === '' && (line.length !== LINE_BYTES || line.subarray(0, prefix.length).toString() !== prefix))
      broken = `member ${index}: expected line ${expected}, got ${line.subarray(0, 12).toString()} (${line.length} bytes)`;
    next.set(index, expected + 1);
  }
  t.equal(broken, '', 'each member’s lines in its order, each line whole');
  t.same(
    [...next.values()],
    Array.from({ length: MEMBER_COUNT }, () => LINE_COUNT),
    `all ${LINE_COUNT} lines of each of the ${MEMBER_COUNT} members`,
  );
  t.same(
    leaves.sort(),
    Array.from({ length: MEMBER_COUNT }, (_, m) => [`slow-${m}`, 0]).sort(),
    'every member left with exit code 0',
  );
}

t.test('a paused merged client: bounded gateway memory, then every line in order', { timeout: 60_000 }, async (t) => {
  const child = fork(fileURLToPath(new URL('./fixtures/merged-backpressure-gateway.mjs', import.meta.url)), [], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, TEST_TOKEN: TOKEN, LINE_COUNT: String(LINE_COUNT), MEMBER_COUNT: String(MEMBER_COUNT) },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(chunk);
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const ready = await new Promise<{ url: string }>((resolve) => child.once('message', resolve as never));
  const client = new LogsClient(ready.url, TOKEN);

  // Warm the merged path (merge, framing, sends) so that the baseline has it loaded.
  const warmUp = client.mergedSocket({ container: ['warm-up-0', 'warm-up-1'], follow: false }, [BINARY]);
  t.equal((await warmUp.waitClosed(20_000)).code, 1000, 'the warm-up read');
  const baseline = await request<Memory>(child, 'memory', 'memory');

  const names = await request<string[]>(child, 'start-writing', 'writing');
  const stream = client.mergedSocket({ container: names }, [BINARY]);
  await stream.opened;
  const socket = (stream.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();

  // The members write all 100 MiB within ~0.5 s; give the gateway ample time to (not) buffer it.
  await sleep(2000);
  const paused = await request<Memory>(child, 'memory', 'memory');
  const heapGrowth = (paused.heapAndExternal - baseline.heapAndExternal) / MiB;
  const rssGrowth = (paused.rss - baseline.rss) / MiB;
  t.comment(
    `baseline: heap+external ${(baseline.heapAndExternal / MiB).toFixed(1)} MiB, rss ${(baseline.rss / MiB).toFixed(1)} MiB`,
  );
  t.comment(`paused: heap+external +${heapGrowth.toFixed(1)} MiB, rss +${rssGrowth.toFixed(1)} MiB`);
  t.ok(heapGrowth < 20, `gateway heap+external grew ${heapGrowth.toFixed(1)} MiB (< 20 MiB)`);
  t.ok(rssGrowth < 20, `gateway rss grew ${rssGrowth.toFixed(1)} MiB (< 20 MiB)`);
  t.ok(stream.messages.length < LINE_COUNT, `the client got ${stream.messages.length} messages while paused`);

  socket.resume();
  t.equal((await stream.waitClosed(40_000)).code, 1000, 'the list ends normally once every member exited');
  checkLines(
    t,
    stream.messages.map((m) => m.data),
  );

  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  // Ten members on one request's signal once made Node warn of a listener leak.
  t.notMatch(stderr, /MaxListenersExceededWarning/, 'no listener-leak warning from the gateway');
});
