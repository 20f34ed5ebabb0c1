// A merged client that stops reading while 10 members write 5 MiB each: the gateway pulls
// each member only as fast as the client reads, so its memory stays bounded (members × batch,
// not 50 MiB), and once the client reads again it gets every line, each member in order.
// The gateway runs in a child process so that its memory is measured apart from the client's.
import t, { type Test } from 'tap';
import { fork, type ChildProcess } from 'node:child_process';
import { get, type IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { LogsClient } from '@enginegate/test-client';
import { sleep } from './fixtures/harness.js';

const MEMBER_COUNT = 10;
const LINE_COUNT = 5 * 1024; // × 1 KiB = 5 MiB a member: 50 MiB in all, 2.5× the 20 MiB bound
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

/** What a client got of one member's line or control record, in either framing. */
/** A line names its member by index (binary) or by name (JSON). */
type Received = { kind: 'line'; member: number | string; line: Buffer } | { kind: 'control'; record: ControlRecord };
interface ControlRecord {
  type: string;
  index: number;
  name: string;
  exitCode?: number;
}

/** Binary merged framing: stream byte, member index (4 bytes BE), line; byte 3 is a control record. */
function fromBinary(message: Buffer): Received {
  if (message[0] === 3) return { kind: 'control', record: JSON.parse(message.subarray(1).toString()) as ControlRecord };
  return { kind: 'line', member: message.readUInt32BE(1), line: message.subarray(5) };
}

/** NDJSON merged framing: line records carry their member's name. */
function fromNdjson(text: string): Received {
  const record = JSON.parse(text) as ControlRecord & { line?: string };
  return record.type === 'line'
    ? { kind: 'line', member: record.name, line: Buffer.from(record.line!) }
    : { kind: 'control', record };
}

function checkLines(t: Test, received: Received[], round: number): void {
  const next = new Map<string, number>();
  const members = new Map<number, string>();
  const leaves: Array<[string, number | undefined]> = [];
  let broken = '';
  for (const item of received) {
    if (item.kind === 'control') {
      if (item.record.type === 'join') members.set(item.record.index, item.record.name);
      if (item.record.type === 'leave') leaves.push([item.record.name, item.record.exitCode]);
      continue;
    }
    const { line } = item;
    const name = typeof item.member === 'number' ? members.get(item.member) : item.member;
    const member = Number(name?.split('-').at(-1));
    const expected = next.get(name ?? '') ?? 0;
    const prefix = `${String(member).padStart(2, '0')} ${String(expected).padStart(8, '0')} `;
    if (broken === '' && (line.length !== LINE_BYTES || line.subarray(0, prefix.length).toString() !== prefix))
      broken = `member ${name}: expected line ${expected}, got ${line.subarray(0, 12).toString()} (${line.length} bytes)`;
    next.set(name ?? '', expected + 1);
  }
  t.equal(broken, '', 'each member’s lines in its order, each line whole');
  t.same(
    [...next.values()],
    Array.from({ length: MEMBER_COUNT }, () => LINE_COUNT),
    `all ${LINE_COUNT} lines of each of the ${MEMBER_COUNT} members`,
  );
  t.same(
    leaves.sort(),
    Array.from({ length: MEMBER_COUNT }, (_, m) => [`slow-${round}-${m}`, 0]).sort(),
    'every member left with exit code 0',
  );
}

/** A client of the merged stream that can stop reading and then read to the end. */
interface PausedClient {
  pause(): void;
  resume(): void;
  /** Everything received, once the stream ended normally. */
  ended(): Promise<Received[]>;
}

function pausedSocket(client: LogsClient, names: string[]): Promise<PausedClient> {
  const stream = client.mergedSocket({ container: names }, [BINARY]);
  return stream.opened.then(() => {
    const socket = (stream.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    return {
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      ended: async () => {
        const { code } = await stream.waitClosed(40_000);
        if (code !== 1000) throw new Error(`closed ${code}`);
        return stream.messages.map((m) => fromBinary(m.data));
      },
    };
  });
}

function pausedNdjson(client: LogsClient, names: string[], token: string): Promise<PausedClient> {
  const url = client.mergedLogsUrl({ container: names });
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/x-ndjson' } });
    request.on('error', reject);
    request.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      const done = new Promise<Received[]>((finish, fail) => {
        response.on('end', () =>
          finish(
            Buffer.concat(chunks)
              .toString()
              .split('\n')
              .filter((l) => l.length > 0)
              .map(fromNdjson),
          ),
        );
        response.on('error', fail);
      });
      resolve({
        // Not reading: no 'data' listener until resume, so the socket stops being read.
        pause: () => response.pause(),
        resume: () => {
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.resume();
        },
        ended: () => done,
      });
    });
  });
}

const clients = {
  'WebSocket (binary), its socket paused': (client: LogsClient, names: string[]) => pausedSocket(client, names),
  'HTTP NDJSON, a reader that stops reading': (client: LogsClient, names: string[]) =>
    pausedNdjson(client, names, TOKEN),
};

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

  let round = 0;
  for (const [kind, open] of Object.entries(clients)) {
    round += 1;
    const baseline = await request<Memory>(child, 'memory', 'memory');
    const names = await request<string[]>(child, 'start-writing', 'writing');
    const paused = await open(client, names);
    paused.pause();
    // The members write all 50 MiB within ~0.5 s; give the gateway ample time to (not) buffer it.
    await sleep(2000);
    const memory = await request<Memory>(child, 'memory', 'memory');
    const heapGrowth = (memory.heapAndExternal - baseline.heapAndExternal) / MiB;
    const rssGrowth = (memory.rss - baseline.rss) / MiB;
    t.comment(
      `${kind}: baseline heap+external ${(baseline.heapAndExternal / MiB).toFixed(1)} MiB, rss ${(baseline.rss / MiB).toFixed(1)} MiB; paused: heap+external +${heapGrowth.toFixed(1)} MiB, rss +${rssGrowth.toFixed(1)} MiB`,
    );
    t.ok(heapGrowth < 20, `${kind}: gateway heap+external grew ${heapGrowth.toFixed(1)} MiB (< 20 MiB)`);
    t.ok(rssGrowth < 20, `${kind}: gateway rss grew ${rssGrowth.toFixed(1)} MiB (< 20 MiB)`);
    paused.resume();
    checkLines(t, await paused.ended(), round);
  }

  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  // Ten members on one request's signal once made Node warn of a listener leak.
  t.notMatch(stderr, /MaxListenersExceededWarning/, 'no listener-leak warning from the gateway');
});
