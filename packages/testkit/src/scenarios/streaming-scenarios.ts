import type { Test } from 'tap';
import {
  decodeBinaryMessages,
  decodeJsonMessages,
  decodeRawMessages,
  decodeTextMessages,
  lineRecords,
  type DecodedRecord,
} from '../framing-decoders.js';
import type { ReceivedMessage } from '@enginegate/test-client';
import { SETTLE_TIMEOUT_MS, eventually, joinedOutput, numberedLines, sameLines, sleep } from '../suite-harness.js';
import type { Scenario } from './scenario.js';
import { checkReferenceMatchesWritten } from './selection-scenarios.js';

/** How soon an engine stream must be let go once its client has gone. */
const RELEASE_WITHIN_MS = 2_000;

/** When each line arrived, from chunks of raw bytes (one entry per newline). */
function lineArrivals(chunks: ReceivedMessage[]): number[] {
  const arrivals: number[] = [];
  for (const chunk of chunks) {
    for (let nl = chunk.data.indexOf(0x0a); nl !== -1; nl = chunk.data.indexOf(0x0a, nl + 1)) arrivals.push(chunk.at);
  }
  return arrivals;
}

function checkSpread(t: Test, arrivals: number[], minimumMs: number, label: string): void {
  const spread = arrivals.length > 1 ? arrivals[arrivals.length - 1]! - arrivals[0]! : 0;
  t.ok(
    spread >= minimumMs,
    `${label}: lines arrived as they were written (first to last ${Math.round(spread)} ms, at least ${minimumMs} ms expected)`,
  );
}

const liveDelivery: Scenario = async (t, h) => {
  const intervalMs = 200;
  const written = numberedLines('live', 8);
  const { ref } = await h.createContainer(t, written, { intervalMs, exitCode: 0 });
  const [json, raw] = await Promise.all([
    h.client.openSocket(ref, { follow: true }, 'json'),
    h.client.openSocket(ref, { follow: true }, 'raw'),
  ]);
  const http = h.client.readHttp(ref, { follow: true }, { timeoutMs: SETTLE_TIMEOUT_MS });
  const [jsonClose, rawClose] = await Promise.all([
    json.waitClosed(SETTLE_TIMEOUT_MS),
    raw.waitClosed(SETTLE_TIMEOUT_MS),
  ]);
  const httpResponse = await http;
  // Written over (n-1) × interval; allow for lines that were already history when the streams opened.
  const minimumSpread = Math.round((written.length - 1) * intervalMs * 0.4);

  t.equal(jsonClose.code, 1000, 'JSON stream: 1000 once the container exited');
  const jsonRecords = decodeJsonMessages(json.messages);
  sameLines(t, lineRecords(jsonRecords), written, 'JSON stream: every line');
  const jsonArrivals = json.messages.filter((_, i) => jsonRecords[i]!.type === 'line').map((message) => message.at);
  checkSpread(t, jsonArrivals, minimumSpread, 'JSON WebSocket');

  t.equal(rawClose.code, 1000, 'raw stream: 1000 once the container exited');
  t.ok(decodeRawMessages(raw.messages).equals(joinedOutput(written)), 'raw stream: every line');
  checkSpread(t, lineArrivals(raw.messages), minimumSpread, 'raw WebSocket');

  t.ok(httpResponse.body.equals(joinedOutput(written)), 'plain HTTP follow: every line, then the body ends');
  checkSpread(t, lineArrivals(httpResponse.chunks), minimumSpread, 'plain HTTP (curl -N)');
};

const exitRecord: Scenario = async (t, h) => {
  const written = numberedLines('exit', 5);
  const { ref } = await h.createContainer(t, written, { intervalMs: 200, exitCode: 3 });
  const sockets = await Promise.all(
    (['json', 'binary', 'text'] as const).map((framing) => h.client.openSocket(ref, { follow: true }, framing)),
  );
  const closes = await Promise.all(sockets.map((socket) => socket.waitClosed(SETTLE_TIMEOUT_MS)));
  const [json, binary, text] = sockets as [(typeof sockets)[0], (typeof sockets)[0], (typeof sockets)[0]];

  const checkRecords = (records: DecodedRecord[], label: string) => {
    sameLines(t, lineRecords(records), written, `${label}: every line`);
    const controls = records.filter((record) => record.type !== 'line');
    t.same(controls, [{ type: 'exit', exitCode: 3 }], `${label}: exactly one control record, exit with code 3`);
    t.same(records.at(-1), { type: 'exit', exitCode: 3 }, `${label}: the exit record comes after the last line`);
  };
  checkRecords(decodeJsonMessages(json.messages), 'JSON framing');
  checkRecords(decodeBinaryMessages(binary.messages), 'binary framing (stream byte 3)');
  t.same(
    decodeTextMessages(text.messages),
    written.map((line) => line.bytes.toString()),
    'text framing: the lines only',
  );
  t.same(
    closes.map((close) => close.code),
    [1000, 1000, 1000],
    'every framing closes with 1000 after the exit',
  );

  // Following a container that has already exited: its lines, then the end (an exit record is allowed).
  const again = await h.readJson(ref, { follow: true });
  sameLines(t, lineRecords(again), written, 'follow=true on an exited container: its lines, then 1000');
  const controls = again.filter((record) => record.type !== 'line');
  t.ok(
    controls.length === 0 || (controls.length === 1 && again.at(-1)?.type === 'exit'),
    'follow=true on an exited container: at most an exit record, last',
  );
};

const cursorResume: Scenario = async (t, h) => {
  // Part 1: every cursor of a finished log resumes exactly behind its record (lines written at once may share a time).
  const written = numberedLines('cursor', 12, h.capabilities.stderr);
  const { container, reference } = await h.createFinished(t, written);
  checkReferenceMatchesWritten(t, h, reference, written);
  const { ref } = container;
  const cursors = reference.map((line) => line.cursor!);
  t.equal(new Set(cursors).size, cursors.length, 'every record has its own cursor');
  for (const k of [0, 4, reference.length - 2, reference.length - 1]) {
    const after = cursors[k]!;
    const rest = lineRecords(await h.readJson(ref, { follow: false, after }));
    sameLines(t, rest, reference.slice(k + 1), `after the cursor of record ${k}: exactly the records behind it`);
    t.same(
      rest.map((line) => line.cursor),
      cursors.slice(k + 1),
      `after the cursor of record ${k}: the same cursors as the full read`,
    );
  }
  sameLines(
    t,
    lineRecords(await h.readJson(ref, { follow: false, after: cursors[3]!, tail: 1 })),
    reference.slice(4),
    'after overrides tail',
  );
  t.ok(
    (await h.readRaw(ref, { follow: false, after: cursors[5]! })).equals(joinedOutput(reference.slice(6))),
    'after works in the raw framing too',
  );
  if (h.capabilities.stderr) {
    sameLines(
      t,
      lineRecords(await h.readJson(ref, { follow: false, after: cursors[4]!, stderr: false })),
      reference.slice(5).filter((line) => line.stream === 'stdout'),
      'after with stderr=false: the stdout records behind the cursor',
    );
  }

  // Part 2: a client that drops mid-stream and reconnects with after= misses nothing and sees nothing twice.
  const live = numberedLines('resume', 10);
  const running = await h.createContainer(t, live, { intervalMs: 150, exitCode: 0 });
  const first = await h.client.openSocket(running.ref, { follow: true }, 'json');
  await first.waitFor((messages) => lineRecords(decodeJsonMessages(messages)).length >= 3, '3 lines');
  first.close();
  await first.waitClosed();
  const before = lineRecords(decodeJsonMessages(first.messages));
  const lastCursor = before.at(-1)!.cursor!;
  const rest = await h.readJson(running.ref, { follow: true, after: lastCursor });
  sameLines(
    t,
    [...before, ...lineRecords(rest)],
    live,
    `dropped after ${before.length} lines, resumed with after=${lastCursor}: every line exactly once`,
  );
};

async function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ state: 'value'; value: T } | { state: 'rejected'; error: unknown } | { state: 'timeout' }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ state: 'timeout' }>(
    (resolve) => (timer = setTimeout(() => resolve({ state: 'timeout' }), ms)),
  );
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ state: 'value' as const, value }),
        (error: unknown) => ({ state: 'rejected' as const, error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const abortReleases: Scenario = async (t, h) => {
  const { ref } = await h.createContainer(t, numberedLines('abort', 2), {}); // keeps running, silent after 2 lines
  const countOpen = async () => (h.target.countOpenStreams ? await h.target.countOpenStreams(h.engine) : 0);
  const baseline = await countOpen();
  let leaked = false;
  const backToBaseline = async (label: string) => {
    if (!h.target.countOpenStreams) return;
    // Once a stream has leaked the count cannot come back: later checks need not wait for it.
    const ok = await eventually(async () => (await countOpen()) === baseline, leaked ? 0 : RELEASE_WITHIN_MS);
    leaked ||= !ok;
    t.ok(ok, `${label}: the engine holds no stream any more (countOpenStreams ${await countOpen()}, was ${baseline})`);
  };

  // The plugin on its own: aborting the signal ends a pull that waits for lines.
  const abort = new AbortController();
  const source = await h.engine.logs.open({ ref }, { follow: true, stdout: true, stderr: true }, abort.signal);
  const iterator = source[Symbol.asyncIterator]();
  let lines = 0;
  while (lines < 2) {
    const pulled = await settleWithin(iterator.next(), 10_000);
    if (pulled.state !== 'value' || pulled.value.done) {
      t.fail(`open(): the 2 lines written did not arrive (${pulled.state})`);
      return;
    }
    lines += pulled.value.value.filter((record) => record.type === 'line').length;
  }
  const waiting = iterator.next();
  await sleep(50);
  abort.abort();
  const ended = await settleWithin(waiting, RELEASE_WITHIN_MS);
  t.not(ended.state, 'timeout', 'open(): aborting the signal ends a pending pull at once');
  if (ended.state === 'value' && !ended.value.done) {
    t.ok(
      (await settleWithin(iterator.next(), RELEASE_WITHIN_MS)).state !== 'timeout',
      'open(): the pull after an abort ends',
    );
  }
  await backToBaseline('after abort()');

  // return() on the iterator releases too (for await ... break does that).
  const second = await h.engine.logs.open(
    { ref },
    { follow: true, stdout: true, stderr: true },
    new AbortController().signal,
  );
  const secondIterator = second[Symbol.asyncIterator]();
  await settleWithin(secondIterator.next(), 5_000);
  if (secondIterator.return) {
    t.not(
      (await settleWithin(secondIterator.return(), RELEASE_WITHIN_MS)).state,
      'timeout',
      'open(): return() on the iterator settles at once',
    );
  } else {
    t.fail('open(): the iterator has no return(), so `for await ... break` cannot release it');
  }
  await backToBaseline('after return()');

  // Through the gateway: a WebSocket client closing, and an HTTP client going away.
  const activeBefore = h.probe.active.length;
  const socket = await h.client.openSocket(ref, { follow: true }, 'json');
  await socket.waitFor((messages) => messages.length >= 2, '2 lines');
  t.equal(h.probe.active.length, activeBefore + 1, 'a followed WebSocket holds one engine stream');
  socket.close();
  t.ok(
    await eventually(() => h.probe.active.length === activeBefore, RELEASE_WITHIN_MS),
    'WebSocket client closed: the gateway releases the engine stream',
  );
  await backToBaseline('WebSocket client closed');

  const http = new AbortController();
  const response = await h.client.fetchLogs(ref, { follow: true }, {}, http.signal);
  const reader = response.body!.getReader();
  await settleWithin(reader.read(), 5_000);
  t.equal(h.probe.active.length, activeBefore + 1, 'a followed HTTP body holds one engine stream');
  http.abort();
  await reader.cancel().catch(() => {});
  t.ok(
    await eventually(() => h.probe.active.length === activeBefore, RELEASE_WITHIN_MS),
    'HTTP client gone: the gateway releases the engine stream',
  );
  await backToBaseline('HTTP client gone');

  for (let i = 0; i < 5; i++) {
    const quick = await h.client.openSocket(ref, { follow: true }, 'raw');
    await quick.waitFor((messages) => messages.length >= 1, 'a message');
    quick.close();
    await quick.waitClosed();
  }
  t.ok(
    await eventually(() => h.probe.active.length === activeBefore, RELEASE_WITHIN_MS),
    '5 quick open/close cycles leave no engine stream behind',
  );
  await backToBaseline('5 open/close cycles');
};

export const streamingScenarios: Record<string, Scenario> = {
  'live-delivery': liveDelivery,
  'exit-record': exitRecord,
  'cursor-resume': cursorResume,
  'abort-releases': abortReleases,
};
