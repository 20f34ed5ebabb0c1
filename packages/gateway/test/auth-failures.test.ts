// Finding list of issue 12 ("What to build"): repeated failed auth from one client is slowed
// down; warnings about the same cause are rate-limited in the log.
import t from 'tap';
import { AuthFailures } from '../src/auth-failures.js';
import { RepeatedWarnings } from '../src/repeated-warnings.js';
import { startGateway, TOKEN } from './fixtures/harness.js';

t.test(
  'after 10 wrong tokens within a minute each 401 waits longer, up to 2 s; a new minute starts free',
  async (t) => {
    let now = 0;
    const failures = new AuthFailures(() => now);
    const delays = Array.from({ length: 16 }, () => failures.record('10.0.0.1'));
    t.same(delays, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200, 400, 800, 1600, 2000]);
    t.equal(failures.record('10.0.0.2'), 0, 'another client is not slowed');
    now += 61_000;
    t.equal(failures.record('10.0.0.1'), 0, 'after the window, free again');
  },
);

t.test('a client guessing tokens is slowed down; the right token is answered at once', async (t) => {
  const { client } = await startGateway(t);
  const timings: number[] = [];
  for (let i = 0; i < 13; i += 1) {
    const started = Date.now();
    const answer = await client.get('/engine', { authorization: `Bearer wrong-${i}` });
    t.equal(answer.status, 401);
    timings.push(Date.now() - started);
  }
  t.ok(timings[12]! >= 380, `the 13th failure waited ${timings[12]} ms (400 ms)`);
  const started = Date.now();
  t.equal((await client.get('/engine', { authorization: `Bearer ${TOKEN}` })).status, 200);
  t.ok(Date.now() - started < timings[12]!, 'the right token is not delayed');
});

t.test('warnings of one cause: the first is logged, the rest of 10 s are counted into the next', async (t) => {
  let now = 0;
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const logger = { warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }) };
  const warnings = new RepeatedWarnings(() => now);
  for (let i = 0; i < 1000; i += 1) warnings.warn(logger as never, 'lost moby', { i }, 'engine lost');
  warnings.warn(logger as never, 'lost containerd', {}, 'engine lost');
  t.equal(lines.length, 2, 'one line per cause');
  now += 10_001;
  warnings.warn(logger as never, 'lost moby', {}, 'engine lost');
  t.equal(lines.length, 3);
  t.equal(lines[2]!.fields.suppressed, 999, 'the next line says how many were left out');
});
