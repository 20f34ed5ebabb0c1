// Issue 12: raw garbage over TCP — random bytes, requests cut in half, requests followed by
// garbage, odd request lines and header lines. Every connection gets an HTTP answer as
// documented (a half request its 408 once the (shortened) timeout passes), nothing is logged
// at error, and afterwards the gateway still serves a normal client.
import t from 'tap';
import fc from 'fast-check';
import { FUZZ_SCALE, assertStillServes, fuzz, startFuzzGateway, type FuzzGateway } from './fuzz-gateway.js';
import { sendBatch, type SentBytes } from './fuzz-requests.js';
import { fuzzRequest, requestBytes } from './request-arbitraries.js';

t.setTimeout(Math.max(240_000, 240_000 * FUZZ_SCALE));

const REQUEST_LINES = [
  'CONNECT 127.0.0.1:1 HTTP/1.1',
  'PRI * HTTP/2.0',
  'GET / HTTP/1.0',
  'GET / HTTP/9.9',
  'GET / HTTP/1.1 extra',
  'GET http://evil.example/engine HTTP/1.1',
  'GET  /engine  HTTP/1.1',
  'GET /engine',
  'OPTIONS * HTTP/1.1',
  '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
];

/** Header lines as a parser should refuse or take: LF only, folded, NUL, no colon, too long. */
const oddHeaderLines = fc.array(
  fc.oneof(
    fc.constantFrom('X-A: b\n', 'X-A:\x00b\r\n', ' folded: line\r\n', 'NoColon\r\n', ': empty name\r\n'),
    fc.constantFrom(
      'Transfer-Encoding: chunked\r\n',
      'Transfer-Encoding: gzip, chunked\r\n',
      'Content-Length: 1, 2\r\n',
    ),
    fc.integer({ min: 100, max: 20_000 }).map((n) => `X-Long: ${'h'.repeat(n)}\r\n`),
  ),
  { minLength: 1, maxLength: 4 },
);

function rawCase(fx: FuzzGateway): fc.Arbitrary<SentBytes> {
  const host = `Host: 127.0.0.1:${fx.port}\r\nAuthorization: Bearer ${fx.token ?? 'none'}\r\n`;
  const bytes = (buffer: Buffer, what: string): SentBytes => ({
    bytes: buffer,
    inputs: [buffer.toString('latin1'), buffer.toString('utf8')],
    what,
  });
  return fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((random) => bytes(Buffer.from(random), 'random bytes')),
    fc.tuple(fuzzRequest(fx), fc.uint8Array({ minLength: 1, maxLength: 512 })).map(([request, garbage]) => ({
      bytes: [requestBytes(request), Buffer.from(garbage)],
      inputs: [...request.inputs, Buffer.from(garbage).toString('latin1')],
      options: { headRequest: request.method === 'HEAD' },
      what: 'a request, then garbage',
    })),
    fc.tuple(fc.constantFrom(...REQUEST_LINES), oddHeaderLines).map(([line, headers]) => ({
      bytes: Buffer.from(`${line}\r\n${host}${headers.join('')}\r\n`, 'latin1'),
      inputs: [line, ...headers],
      what: line,
    })),
  );
}

/** A request cut short: answered only when the (shortened) timeout passes, once a second. */
function halfRequest(fx: FuzzGateway): fc.Arbitrary<SentBytes> {
  return fc.tuple(fuzzRequest(fx), fc.double({ min: 0.01, max: 0.99, noNaN: true })).map(([request, at]) => {
    const whole = requestBytes(request);
    const half = whole.subarray(0, Math.max(1, Math.floor(whole.length * at)));
    // The request's own values: its header lines' standard text is the gateway's too.
    return { bytes: half, inputs: request.inputs, what: 'a request cut short' };
  });
}

t.test('raw bytes over TCP', async (t) => {
  const fx = await startFuzzGateway(t);
  const batch = fc.array(rawCase(fx), { minLength: 1, maxLength: 12 });
  await fuzz(t, fx, 'raw tcp', batch, 300, async (sent) => {
    await sendBatch(fx, sent);
  });
  await assertStillServes(t, fx);
});

t.test('requests cut short over TCP', async (t) => {
  const fx = await startFuzzGateway(t);
  // Each batch waits for node's once-a-second timeout check: many at once keep the run short.
  const batch = fc.array(halfRequest(fx), { minLength: 30, maxLength: 50 });
  const check = async (sent: SentBytes[]) => void (await sendBatch(fx, sent));
  await fuzz(t, fx, 'half requests', batch, 15, check, false);
  await assertStillServes(t, fx);
});
