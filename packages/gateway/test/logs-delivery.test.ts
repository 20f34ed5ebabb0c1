// What a client receives: live lines as they are written, one message per line, exact bytes in
// every framing, cursors that resume without gaps or repeats, and streamed plain HTTP.
import t from 'tap';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { MOCK_EXIT_CODE, mockBytesLines, mockBytesOutput, type MockEngine } from '@enginegate/plugin-mock';
import { eventually, startGateway } from './fixtures/harness.js';

const LOGS = '/passthrough/engine/logs/';
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const chattyNumber = (line: string) => Number(/^chatty line (\d+) (stdout|stderr)$/.exec(line)![1]);

t.test('follow: live lines arrive as the container writes them, one message per line', async (t) => {
  const { client } = await startGateway(t);
  const json = client.socket(LOGS + 'mock-chatty?tail=0', ['v1.json.enginegate']);
  const text = client.socket(LOGS + 'mock-chatty?tail=0', ['v1.text.enginegate']);
  await Promise.all([json.waitForMessages(6), text.waitForMessages(6)]);
  json.socket.close();
  text.socket.close();

  const records = json.jsonMessages().slice(0, 6);
  t.ok(
    records.every((r) => r.type === 'line' && typeof r.line === 'string' && TIMESTAMP.test(r.time)),
    'one line record per message',
  );
  const numbers = records.map((r) => chattyNumber(r.line));
  t.same(
    numbers,
    numbers.map((_, i) => numbers[0]! + i),
    'consecutive lines, none skipped',
  );
  t.same(
    records.map((r) => r.stream),
    numbers.map((n) => (n % 2 === 1 ? 'stdout' : 'stderr')),
    'streams kept apart',
  );

  // Each line is delivered before the container writes the next one (100 ms later): lateness
  // is measured from the line's own timestamp.
  const lateness = json.messages
    .slice(0, 6)
    .map((m, i) => performance.timeOrigin + m.at - Date.parse(records[i]!.time));
  t.ok(
    lateness.filter((ms) => ms < 100).length >= 4,
    `lines arrive within 100 ms of being written (lateness ${lateness.join(', ')} ms)`,
  );
  const arrivals = json.messages.slice(0, 6).map((m) => m.at);
  const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]!);
  t.ok(
    arrivals[5]! - arrivals[0]! >= 250,
    `arrivals spread over the writing time (gaps ${gaps.join(', ')} ms), not bunched at the end`,
  );

  const lines = text.texts().slice(0, 6);
  t.ok(
    lines.every((l) => /^chatty line \d+ (stdout|stderr)$/.test(l)),
    'text framing: exactly one line per message, no newline',
  );
  t.ok(
    text.messages.every((m) => !m.isBinary),
    'text framing: text messages',
  );
});

t.test('after=<cursor> resumes right after that line: none repeated, none missing', async (t) => {
  const { client } = await startGateway(t);
  const readAll = async (query: string) => {
    const stream = client.socket(LOGS + query, ['v1.json.enginegate']);
    t.equal((await stream.closed).code, 1000, `${query.slice(0, 50)}: ends with 1000`);
    return stream.jsonMessages();
  };
  // Freeze the selection at a past time so that every read sees the same lines.
  const history = await readAll('mock-chatty?follow=false&tail=all');
  const until = history[899].time as string;
  const full = await readAll(`mock-chatty?follow=false&until=${until}`);
  t.equal(full.length, 900);
  for (const k of [0, 1, 417, 898]) {
    const resumed = await readAll(`mock-chatty?follow=false&until=${until}&after=${full[k].cursor}`);
    t.same(
      [...full.slice(0, k + 1), ...resumed].map((r) => r.cursor),
      full.map((r) => r.cursor),
      `resume after line ${k + 1}`,
    );
  }

  // Live: take the cursor of the last line a follower saw, reconnect, continue exactly there.
  const first = client.socket(LOGS + 'mock-chatty?tail=3', ['v1.json.enginegate']);
  await first.waitForMessages(5);
  first.socket.close();
  await first.closed;
  const seen = first.jsonMessages();
  const last = seen[seen.length - 1];
  const second = client.socket(LOGS + `mock-chatty?after=${last.cursor}`, ['v1.json.enginegate']);
  await second.waitForMessages(3);
  second.socket.close();
  t.same(
    second
      .jsonMessages()
      .slice(0, 3)
      .map((r) => chattyNumber(r.line)),
    [1, 2, 3].map((i) => chattyNumber(last.line) + i),
    'the resumed follower continues with the very next line',
  );

  // Lines that share one timestamp (mock-bytes writes all at once) resume by sequence number.
  const bytes = await readAll('mock-bytes?follow=false');
  t.equal(new Set(bytes.map((r) => r.time)).size, 1, 'mock-bytes lines share a time');
  const afterThird = await readAll(`mock-bytes?follow=false&after=${bytes[2].cursor}`);
  t.same(
    afterThird.map((r) => r.cursor),
    bytes.slice(3).map((r) => r.cursor),
  );
});

t.test('raw and binary framings deliver every byte mock-bytes wrote', async (t) => {
  const { client } = await startGateway(t);
  const expected = mockBytesOutput();

  const raw = client.socket(LOGS + 'mock-bytes?follow=false');
  t.equal((await raw.closed).code, 1000);
  t.ok(
    raw.messages.every((m) => m.isBinary),
    'raw: binary messages',
  );
  const rawBytes = Buffer.concat(raw.messages.map((m) => m.data));
  t.equal(sha256(rawBytes), sha256(expected), `raw: SHA-256 of ${rawBytes.length} bytes matches`);
  t.ok(
    raw.messages.every((m) => m.data.length <= 64 * 1024 + 1),
    'raw: no message over 64 KiB (+ its newline)',
  );
  const cjk = raw.messages.filter((m) => m.data.includes(Buffer.from('日日日')));
  t.ok(cjk.length >= 2, 'the 102,000-byte line is cut into several messages');
  t.ok(
    cjk.every((m) => isUtf8(m.data)),
    '…each cut at a UTF-8 boundary',
  );

  const binary = client.socket(LOGS + 'mock-bytes?follow=false', ['v1.binary.enginegate']);
  t.equal((await binary.closed).code, 1000);
  const lines = mockBytesLines();
  t.equal(binary.messages.length, lines.length, 'binary: one message per line');
  t.same(
    binary.messages.map((m) => m.data[0]),
    lines.map((l) => (l.stream === 'stdout' ? 1 : 2)),
    'binary: the first byte is the stream',
  );
  const binaryBytes = Buffer.concat(binary.messages.flatMap((m) => [m.data.subarray(1), Buffer.from('\n')]));
  t.equal(sha256(binaryBytes), sha256(expected), 'binary: SHA-256 matches');
});

t.test('text replaces invalid UTF-8 with U+FFFD; json uses base64 for it', async (t) => {
  const { client } = await startGateway(t);
  const lines = mockBytesLines();
  const text = client.socket(LOGS + 'mock-bytes?follow=false', ['v1.text.enginegate']);
  await text.closed;
  t.same(
    text.texts(),
    lines.map((l) => l.bytes.toString('utf8')),
  );
  t.equal(text.texts()[1], '\uFFFD\uFFFD starts with 0xff 0xfe');

  const json = client.socket(LOGS + 'mock-bytes?follow=false', ['v1.json.enginegate']);
  await json.closed;
  const records = json.jsonMessages();
  t.equal(records.length, lines.length);
  records.forEach((r, i) => {
    const bytes = lines[i]!.bytes;
    if (isUtf8(bytes)) {
      t.equal(r.line, bytes.toString('utf8'), `line ${i + 1} as text`);
      t.notOk('base64' in r);
    } else {
      t.notOk('line' in r, `line ${i + 1} is not UTF-8: no "line"`);
      t.ok(Buffer.from(r.base64, 'base64').equals(bytes), `line ${i + 1}: base64 gives the exact bytes`);
    }
  });
});

t.test('timestamps=true prefixes lines with the fixed-width time in raw, text and binary framings', async (t) => {
  const { client } = await startGateway(t);
  const text = client.socket(LOGS + 'mock-chatty?follow=false&tail=3&timestamps=true', ['v1.text.enginegate']);
  await text.closed;
  t.ok(
    text.texts().every((l) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z chatty line \d+ std(out|err)$/.test(l)),
    'text',
  );
  // mock-chatty keeps writing: the raw read ends where the text read's last line is (`until`,
  // inclusive), so both hold the same three lines.
  const lastTime = text.texts().at(-1)!.slice(0, 30);
  const raw = client.socket(
    LOGS + `mock-chatty?follow=false&tail=3&timestamps=1&until=${encodeURIComponent(lastTime)}`,
  );
  await raw.closed;
  const rawLines = Buffer.concat(raw.messages.map((m) => m.data))
    .toString()
    .split('\n');
  t.equal(rawLines.pop(), '', 'raw ends with a newline');
  t.same(
    rawLines.map((l) => l.slice(31)),
    text.texts().map((l) => l.slice(31)),
  );
  t.ok(
    rawLines.every((l) => TIMESTAMP.test(l.slice(0, 30)) && l[30] === ' '),
    'raw',
  );
  const binary = client.socket(LOGS + 'mock-chatty?follow=false&tail=3&timestamps=true', ['v1.binary.enginegate']);
  await binary.closed;
  t.ok(
    binary.messages.every((m) => TIMESTAMP.test(m.data.subarray(1, 31).toString()) && m.data[31] === 0x20),
    'binary',
  );
});

t.test('a followed container that exits: its last line, the exit record, then 1000', async (t) => {
  const { client } = await startGateway(t);
  const json = client.socket(LOGS + 'mock-exit', ['v1.json.enginegate']);
  const binary = client.socket(LOGS + 'mock-exit', ['v1.binary.enginegate']);
  const raw = client.socket(LOGS + 'mock-exit');
  t.same(await json.closed, { code: 1000, reason: 'end of logs' });
  const records = json.jsonMessages();
  t.equal(records.filter((r) => r.type === 'line').length, 20);
  t.same(records[records.length - 1], { type: 'exit', exitCode: MOCK_EXIT_CODE }, 'the exit record comes last');
  t.equal((await binary.closed).code, 1000);
  const control = binary.messages[binary.messages.length - 1]!;
  t.equal(control.data[0], 3, 'binary: a control message');
  t.same(JSON.parse(control.data.subarray(1).toString()), { type: 'exit', exitCode: MOCK_EXIT_CODE });
  t.equal((await raw.closed).code, 1000);
  t.equal(
    Buffer.concat(raw.messages.map((m) => m.data))
      .toString()
      .split('\n').length,
    21,
    'raw: the 20 lines',
  );
});

t.test('plain HTTP: text/plain streams lines live; NDJSON with Accept; disconnect releases the source', async (t) => {
  const { gw, client } = await startGateway(t);
  const mock = gw.engines.snapshot().engine as MockEngine;

  const chunks: Array<{ text: string; at: number }> = [];
  const leave = new AbortController();
  const response = await client.fetchLogs('mock-chatty', { tail: 0 }, {}, leave.signal);
  const contentType = response.headers.get('content-type');
  const reading = (async () => {
    for await (const c of response.body!) chunks.push({ text: Buffer.from(c).toString(), at: Date.now() });
  })().catch(() => undefined);
  // 8 lines written 100 ms apart: 700 ms apart when sent as written. A stall of the client can
  // bunch a few (HTTP chunks read together arrive at one time), not 700 ms' worth.
  t.ok(await eventually(() => chunks.length >= 8, 8000), 'chunks arrive while the stream is open');
  t.equal(contentType, 'text/plain; charset=utf-8');
  t.ok(
    chunks.slice(0, 8).every((c) => /^(chatty line \d+ std(out|err)\n)+$/.test(c.text)),
    'whole lines with newlines',
  );
  t.ok(chunks[7]!.at - chunks[0]!.at >= 300, 'spread over time: sent as written, not at the end');
  t.equal(mock.activeReaders, 1);
  t.equal(gw.openStreams, 1);
  leave.abort();
  await reading;
  t.ok(
    await eventually(() => mock.activeReaders === 0 && gw.openStreams === 0, 2000),
    'the client leaving releases the source at once',
  );

  const ndjson = await client.get(LOGS + 'mock-exit', { accept: 'application/x-ndjson' });
  t.equal(ndjson.status, 200);
  t.match(ndjson.headers.get('content-type'), /^application\/x-ndjson/);
  const records = ndjson.text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.equal(records.filter((r) => r.type === 'line').length, 20);
  t.same(records[records.length - 1], { type: 'exit', exitCode: MOCK_EXIT_CODE });
  t.ok(records.filter((r) => r.type === 'line').every((r) => TIMESTAMP.test(r.time) && typeof r.cursor === 'string'));

  const rawBytes = await client.get(LOGS + 'mock-bytes?follow=false');
  t.equal(sha256(rawBytes.body), sha256(mockBytesOutput()), 'plain HTTP raw: every byte');
});
