// Findings 1 and 2 of issue 12: a huge duration is a 400 (not a 500 with a stack), and no error
// message or log line repeats more than 64 characters of what a client sent.
import t from 'tap';
import { Writable } from 'node:stream';
import { MAX_ECHOED_INPUT_CHARS } from '@enginegate/plugin-api';
import { startGateway } from './fixtures/harness.js';

const LOGS = '/passthrough/engine/logs/mock-exit';
const LONG = 15_000;

/** A run of `LONG` characters that no message may repeat more than 64 of. */
const filler = (char: string) => char.repeat(LONG);
const echoesMoreThanLimit = (text: string, char: string) => text.includes(char.repeat(MAX_ECHOED_INPUT_CHARS + 1));

/** A gateway whose log lines (JSON, every level) land in `lines`. */
async function gatewayWithLog(t: Parameters<typeof startGateway>[0]) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const started = await startGateway(t, { logger: { level: 'debug', stream } });
  return { ...started, lines };
}

t.test('since/until with a duration too long for a double or for Go is a 400 naming the parameter', async (t) => {
  const { client, lines } = await gatewayWithLog(t);
  for (const parameter of ['since', 'until']) {
    for (const value of [`${'9'.repeat(309)}s`, '2562048h', `${'9'.repeat(30)}h`]) {
      const answer = await client.get(`${LOGS}?follow=false&${parameter}=${value}`);
      t.equal(answer.status, 400, `${parameter}=${value.slice(0, 12)}…: 400`);
      t.equal(answer.json.error.code, 'INVALID_ARGUMENT');
      t.match(answer.json.error.message, new RegExp(`^${parameter}=".*" is not a time`));
    }
  }
  t.notOk(
    lines.some((line) => /"level":50/.test(line)),
    'nothing logged at error',
  );
});

t.test('long input comes back cut to 64 characters in every error message', async (t) => {
  const { client } = await gatewayWithLog(t);
  const cases: Array<[string, () => Promise<{ status: number; text: string }>]> = [
    ['after', () => client.get(`${LOGS}?after=${filler('a')}`)],
    ['since', () => client.get(`${LOGS}?since=${filler('a')}`)],
    ['until', () => client.get(`${LOGS}?until=${filler('a')}`)],
    ['namespace', () => client.get(`${LOGS}?namespace=${filler('a')}`)],
    ['tail', () => client.get(`${LOGS}?tail=${filler('a')}`)],
    ['follow', () => client.get(`${LOGS}?follow=${filler('a')}`)],
    ['engine name', () => client.request('PUT', '/engine', { name: 'a'.repeat(10_000) })],
    ['engine name of another type', () => client.request('PUT', '/engine', { name: ['a'.repeat(10_000)] })],
    ['unknown path', () => client.get(`/${filler('a')}`)],
    ['unknown passthrough endpoint', () => client.get(`/passthrough/mock/${'a'.repeat(1000)}`)],
    // Found by the fuzz suite: the passthrough routes named a repeated parameter in full.
    [
      'a repeated parameter name',
      () => client.get(`/passthrough/engine/containers?${'a'.repeat(1000)}=1&${'a'.repeat(1000)}=2`),
    ],
    [
      'subprotocol list',
      () =>
        client.refusedUpgrade(
          LOGS,
          Array.from({ length: 1000 }, (_, i) => `aaaaaaaaaa${i}`),
        ),
    ],
    ['origin', () => client.get('/engine', { origin: `http://${filler('a')}` })],
  ];
  for (const [what, send] of cases) {
    const answer = await send();
    t.ok(answer.status >= 400 && answer.status < 500, `${what}: a client error (${answer.status})`);
    t.ok(answer.text.length < 400, `${what}: the body is short (${answer.text.length} characters)`);
    t.notOk(echoesMoreThanLimit(answer.text, 'a'), `${what}: at most 64 characters of the input come back`);
  }
});

t.test('long input is cut to 64 characters in the log too (PUT /engine logs the name at info)', async (t) => {
  const { client, lines } = await gatewayWithLog(t);
  const before = lines.length;
  t.equal((await client.request('PUT', '/engine', { name: 'b'.repeat(10_000) })).status, 400);
  await client.get(`${LOGS}?since=${filler('b')}`);
  await client.get(`/${filler('b')}`);
  const logged = lines.slice(before);
  t.ok(
    logged.some((line) => line.includes('engine switch requested')),
    'the request is logged',
  );
  t.notOk(
    logged.some((line) => echoesMoreThanLimit(line, 'b')),
    'no log line repeats more than 64 characters of the input',
  );
});

// Found by the fuzz suite (test/fuzz): a stream's log lines named it by the reference or the
// selector as given (`service=` and a 63-character name: 71 characters of the query).
/** True when `line` repeats more than 64 consecutive characters of `input`. */
function repeatsOfInput(line: string, input: string): boolean {
  const window = MAX_ECHOED_INPUT_CHARS + 1;
  for (let at = 0; at + window <= input.length; at += 1) if (line.includes(input.slice(at, at + window))) return true;
  return false;
}

t.test('a stream of a long container reference or selector logs at most 64 characters of it', async (t) => {
  const { client, lines } = await gatewayWithLog(t);
  const c = (n: number) => 'c'.repeat(n);
  const queries = [
    `service=${c(63)}`,
    `container=${c(60)}&container=${c(60)}`,
    `label=${c(30)}=${c(60)}&label=x`,
    `project=${c(63)}`,
  ];
  const paths = [
    ...queries.map((query) => ({ path: `/passthrough/engine/logs?${query}&follow=false`, input: query })),
    { path: `/passthrough/engine/logs/${c(255)}?follow=false`, input: c(255) },
  ];
  for (const { path, input } of paths) {
    const before = lines.length;
    await client.get(path);
    const logged = lines.slice(before);
    t.ok(logged.length > 0, `${input.slice(0, 20)}…: logged`);
    t.notOk(
      logged.some((line) => repeatsOfInput(line, input) || repeatsOfInput(line, input.replaceAll('&container=', ','))),
      `${input.slice(0, 20)}…: no log line repeats more than 64 characters of it`,
    );
  }
});
