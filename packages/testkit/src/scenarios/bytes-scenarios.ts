import type { Test } from 'tap';
import type { ContainerWrite } from '../conformance-target.js';
import {
  decodeNdjson,
  decodeRawMessages,
  isValidUtf8,
  lineRecords,
  type DecodedLine,
  type DecodedRecord,
} from '../framing-decoders.js';
import type { ReceivedMessage } from '@enginegate/test-client';
import { SETTLE_TIMEOUT_MS, joinedOutput, numberedLines, sameLines, type SuiteHarness } from '../suite-harness.js';
import type { Scenario } from './scenario.js';
import { checkReferenceMatchesWritten } from './selection-scenarios.js';

/** The raw framing may cut a line across messages only when it is longer than this. */
export const RAW_MAX_WHOLE_LINE = 64 * 1024;

/**
 * Checks the raw framing's promise: each message is one or more whole lines, except that a
 * line over 64 KiB may be cut (and then only at a UTF-8 boundary, when the line is UTF-8).
 */
export function checkRawMessageCuts(t: Test, messages: ReceivedMessage[], label: string): void {
  let lineLength = 0;
  let cut = false;
  let badCut: string | undefined;
  let badUtf8: number | undefined;
  const wholeIsUtf8 = isValidUtf8(decodeRawMessages(messages));
  messages.forEach((message, index) => {
    if (wholeIsUtf8 && badUtf8 === undefined && !isValidUtf8(message.data)) badUtf8 = index;
    let start = 0;
    for (let nl = message.data.indexOf(0x0a); nl !== -1; nl = message.data.indexOf(0x0a, start)) {
      lineLength += nl - start;
      if (cut && lineLength <= RAW_MAX_WHOLE_LINE && badCut === undefined) {
        badCut = `a ${lineLength}-byte line was cut across messages, ending in message ${index}`;
      }
      lineLength = 0;
      cut = false;
      start = nl + 1;
    }
    if (start < message.data.length) {
      lineLength += message.data.length - start;
      cut = true;
    }
  });
  t.notOk(
    badCut,
    `${label}: each message is whole lines (only lines over 64 KiB are cut)${badCut ? `: ${badCut}` : ''}`,
  );
  t.notOk(cut, `${label}: the last message ends with a newline`);
  if (wholeIsUtf8)
    t.equal(badUtf8, undefined, `${label}: lines are cut only at UTF-8 boundaries (every message is valid UTF-8)`);
}

/** Reads the reference's container through every framing and plain HTTP, and checks each against `expected`. */
async function checkEveryFraming(
  t: Test,
  h: SuiteHarness,
  ref: string,
  expected: DecodedLine[],
  query: Record<string, string | number | boolean> = {},
): Promise<void> {
  const q = { follow: false, ...query };
  const label = new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)])).toString();
  sameLines(t, lineRecords(await h.readJson(ref, q)), expected, `JSON framing (${label})`);
  sameLines(t, lineRecords(await h.readBinary(ref, q)), expected, `binary framing (${label})`);
  const text = await h.readText(ref, q);
  const expectedText = expected.map((line) => line.bytes.toString('utf8'));
  t.ok(
    text.length === expectedText.length && text.every((message, i) => message === expectedText[i]),
    `text framing (${label}): one message per line, invalid UTF-8 replaced by U+FFFD`,
  );
  const raw = await h.client.readSocket(ref, q, 'raw', SETTLE_TIMEOUT_MS);
  t.ok(
    decodeRawMessages(raw.messages).equals(joinedOutput(expected)),
    `raw framing (${label}): the exact bytes, each line followed by a newline`,
  );
  checkRawMessageCuts(t, raw.messages, `raw framing (${label})`);
  const http = await h.client.readHttp(ref, q);
  t.ok(http.body.equals(joinedOutput(expected)), `plain HTTP (${label}): the exact bytes`);
}

const wholeLongLine: Scenario = async (t, h) => {
  const long = Buffer.from(`a${'€'.repeat(34_133)}`); // 102,400 bytes; the cut point of a 64 KiB split falls inside a character
  t.equal(long.length, 100 * 1024);
  const written: ContainerWrite[] = [
    { stream: 'stdout', bytes: Buffer.from('before the long line') },
    { stream: 'stdout', bytes: long },
    { stream: 'stdout', bytes: Buffer.from('after the long line') },
  ];
  if (h.capabilities.stderr) {
    written.push({ stream: 'stderr', bytes: Buffer.from(`b${'é'.repeat(51_199)}c`) }); // 102,400 bytes of 2-byte characters
  }
  const { container, reference } = await h.createFinished(t, written, { intervalMs: 10 });
  t.equal(reference.length, written.length, `${written.length} lines, none cut in pieces (got ${reference.length})`);
  checkReferenceMatchesWritten(t, h, reference, written);
  await checkEveryFraming(t, h, container.ref, reference);
};

const exactBytes: Scenario = async (t, h) => {
  const texts = [
    'a\u0000b (NUL)',
    'crlf\r',
    '\tindented\ttabs',
    '\u001b[31mred\u001b[0m plain',
    '',
    'héllo wörld ✓ 😀',
    '  spaced  ',
    '\\backslash "quotes" {"json": true}',
    'line\u2028separator',
  ];
  const written: ContainerWrite[] = texts.map((text) => ({ stream: 'stdout', bytes: Buffer.from(text) }));
  if (h.capabilities.stderr) written.push({ stream: 'stderr', bytes: Buffer.from('\u0007bell on stderr') });
  const { container, reference } = await h.createFinished(t, written);
  checkReferenceMatchesWritten(t, h, reference, written);
  await checkEveryFraming(t, h, container.ref, reference);
};

const nonUtf8Bytes: Scenario = async (t, h) => {
  const written: ContainerWrite[] = [
    [0xff, 0xfe],
    [0xc3], // a lone lead byte
    [...Buffer.from('caf'), 0xe9], // latin-1
    [0xc0, 0xaf], // overlong
    [...Buffer.from('surrogate '), 0xed, 0xa0, 0x80],
    [...Buffer.from('é'), 0xff, ...Buffer.from(' mixed')],
  ].map((bytes) => ({ stream: 'stdout' as const, bytes: Buffer.from(bytes) }));
  written.push({ stream: 'stdout', bytes: Buffer.from('valid after invalid ✓') });
  const { container, reference } = await h.createFinished(t, written);
  checkReferenceMatchesWritten(t, h, reference, written);
  // JSON: the decoder has checked that invalid UTF-8 came as "base64" and valid as "line".
  await checkEveryFraming(t, h, container.ref, reference);
};

const framingsAgree: Scenario = async (t, h) => {
  const written: ContainerWrite[] = numberedLines('framings', 6, h.capabilities.stderr);
  if (h.capabilities.binarySafe) written.push({ stream: 'stdout', bytes: Buffer.from([0x62, 0x69, 0x6e, 0xff, 0x00]) });
  written.push(
    { stream: 'stdout', bytes: Buffer.from('x'.repeat(70 * 1024)) },
    { stream: 'stdout', bytes: Buffer.from('end ✓') },
  );
  const { container, reference } = await h.createFinished(t, written, { intervalMs: 5 });
  checkReferenceMatchesWritten(t, h, reference, written);
  const { ref } = container;

  const json = lineRecords(await h.readJson(ref, { follow: false }));
  t.same(
    json.map((line) => line.cursor),
    reference.map((line) => line.cursor),
    'two JSON reads give the same cursors',
  );
  await checkEveryFraming(t, h, ref, reference);
  await checkEveryFraming(t, h, ref, reference.slice(-3), { tail: 3 });

  if (h.capabilities.times) {
    const stamped = reference.map((line) => `${line.time} ${line.bytes.toString('utf8')}`);
    const text = await h.readText(ref, { follow: false, timestamps: true });
    t.ok(
      text.length === stamped.length && text.every((message, i) => message === stamped[i]),
      "text framing, timestamps=true: the JSON records' times",
    );
    const raw = await h.readRaw(ref, { follow: false, timestamps: true });
    const expectedRaw = Buffer.concat(
      reference.flatMap((line) => [Buffer.from(`${line.time} `), line.bytes, Buffer.from('\n')]),
    );
    t.ok(raw.equals(expectedRaw), "raw framing, timestamps=true: the JSON records' times");
  }
};

const httpAgrees: Scenario = async (t, h) => {
  const written: ContainerWrite[] = numberedLines('http', 6, h.capabilities.stderr);
  if (h.capabilities.binarySafe) written.push({ stream: 'stdout', bytes: Buffer.from([0xfe, 0x41]) });
  written.push({ stream: 'stdout', bytes: Buffer.from('ünïcödé last') });
  const { container, reference } = await h.createFinished(t, written, { intervalMs: 5 });
  checkReferenceMatchesWritten(t, h, reference, written);
  const { ref } = container;

  const plain = await h.client.readHttp(ref, { follow: false });
  t.equal(plain.status, 200, 'plain HTTP: 200');
  t.match(
    plain.headers.get('content-type') ?? '',
    /^text\/plain;\s*charset=utf-8/i,
    'plain HTTP: text/plain; charset=utf-8',
  );
  t.ok(plain.body.equals(await h.readRaw(ref, { follow: false })), 'plain HTTP body = the raw WebSocket bytes');

  const ndjson = await h.client.readHttp(ref, { follow: false }, { accept: 'application/x-ndjson' });
  t.equal(ndjson.status, 200, 'NDJSON: 200');
  t.match(ndjson.headers.get('content-type') ?? '', /application\/x-ndjson/, 'NDJSON: application/x-ndjson');
  sameRecords(
    t,
    decodeNdjson(ndjson.body),
    await h.readJson(ref, { follow: false }),
    'NDJSON = the v1.json WebSocket objects (lines, times, cursors)',
  );

  // follow=true ends only once the container has exited.
  const followed = h.capabilities.exits ? [{ follow: true }] : [];
  for (const query of [{ tail: 2, stderr: false }, { timestamps: h.capabilities.times, tail: 4 }, ...followed]) {
    const q = { follow: false, ...query };
    const label = new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)])).toString();
    const body = (await h.client.readHttp(ref, q)).body;
    t.ok(body.equals(await h.readRaw(ref, q)), `plain HTTP = raw WebSocket (${label})`);
    const records = decodeNdjson((await h.client.readHttp(ref, q, { accept: 'application/x-ndjson' })).body);
    sameRecords(t, records, await h.readJson(ref, q), `NDJSON = JSON WebSocket (${label})`);
  }
};

/** Records equal in kind, stream, bytes, time, cursor and control fields. */
function sameRecords(t: Test, actual: DecodedRecord[], expected: DecodedRecord[], message: string): void {
  const normal = (records: DecodedRecord[]) =>
    records.map((record) => (record.type === 'line' ? { ...record, bytes: record.bytes.toString('base64') } : record));
  t.same(normal(actual), normal(expected), message);
}

export const bytesScenarios: Record<string, Scenario> = {
  'whole-100k-line': wholeLongLine,
  'exact-bytes': exactBytes,
  'non-utf8-bytes': nonUtf8Bytes,
  'framings-agree': framingsAgree,
  'http-agrees': httpAgrees,
};
