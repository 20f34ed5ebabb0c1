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
import { SETTLE_TIMEOUT_MS, joinedOutput, numberedLines, sameLines } from '../suite-harness.js';
import type { Scenario } from './scenario.js';
import { abortReleases } from './release-scenarios.js';
import { checkReferenceMatchesWritten } from './selection-scenarios.js';

/** When each line arrived, from chunks of raw bytes (one entry per newline). */
function lineArrivals(chunks: ReceivedMessage[]): number[] {
  const arrivals: number[] = [];
  for (const chunk of chunks) {
    for (let nl = chunk.data.indexOf(0x0a); nl !== -1; nl = chunk.data.indexOf(0x0a, nl + 1)) arrivals.push(chunk.at);
  }
  return arrivals;
}

/** Lines within this of the first arrival came together as the stream's history. */
const HISTORY_BATCH_MS = 50;

/**
 * Lines arrive as they are written: the whole stream spreads over the writing time, and so do
 * the lines after the first batch — an engine that sends the history at once but holds the
 * live lines back until the end fails the second check.
 */
function checkSpread(t: Test, arrivals: number[], minimumMs: number, intervalMs: number, label: string): void {
  const spread = arrivals.length > 1 ? arrivals[arrivals.length - 1]! - arrivals[0]! : 0;
  t.ok(
    spread >= minimumMs,
    `${label}: lines arrived as they were written (first to last ${Math.round(spread)} ms, at least ${minimumMs} ms expected)`,
  );
  const live = arrivals.filter((at) => at - arrivals[0]! > HISTORY_BATCH_MS);
  const liveSpread = live.length > 1 ? live[live.length - 1]! - live[0]! : 0;
  const liveMinimum = Math.round((live.length - 1) * intervalMs * 0.4);
  t.ok(
    liveSpread >= liveMinimum,
    `${label}: the ${live.length} lines after the first batch came one by one too ` +
      `(${Math.round(liveSpread)} ms, at least ${liveMinimum} ms expected)`,
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
  checkSpread(t, jsonArrivals, minimumSpread, intervalMs, 'JSON WebSocket');

  t.equal(rawClose.code, 1000, 'raw stream: 1000 once the container exited');
  t.ok(decodeRawMessages(raw.messages).equals(joinedOutput(written)), 'raw stream: every line');
  checkSpread(t, lineArrivals(raw.messages), minimumSpread, intervalMs, 'raw WebSocket');

  t.ok(httpResponse.body.equals(joinedOutput(written)), 'plain HTTP follow: every line, then the body ends');
  checkSpread(t, lineArrivals(httpResponse.chunks), minimumSpread, intervalMs, 'plain HTTP (curl -N)');
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

export const streamingScenarios: Record<string, Scenario> = {
  'live-delivery': liveDelivery,
  'exit-record': exitRecord,
  'cursor-resume': cursorResume,
  'abort-releases': abortReleases,
};
