import t from 'tap';
import {
  formatTimestamp,
  formatUnixSeconds,
  parseRfc3339,
  parseDuration,
  parseTimeParam,
  InvalidArgumentError,
  NS_PER_S,
  splitNanos,
} from '@enginegate/plugin-api';

t.test('formatTimestamp is Docker fixed-width', async (t) => {
  const ns = 1704207845n * NS_PER_S + 5n;
  t.equal(formatTimestamp(ns), '2024-01-02T15:04:05.000000005Z');
  t.equal(formatTimestamp(0n), '1970-01-01T00:00:00.000000000Z');
});

t.test('parseRfc3339 reads nanoseconds, trimmed fractions and offsets', async (t) => {
  t.equal(parseRfc3339('2024-01-02T15:04:05.123456789Z'), 1704207845123456789n);
  t.equal(parseRfc3339('2024-01-02T15:04:05.5Z'), 1704207845500000000n);
  t.equal(parseRfc3339('2024-01-02T15:04:05Z'), 1704207845000000000n);
  t.equal(parseRfc3339('2024-01-02T16:04:05+01:00'), 1704207845000000000n);
  t.equal(parseRfc3339('2024-13-02T15:04:05Z'), undefined);
  t.equal(parseRfc3339('yesterday'), undefined);
  // round trip
  const ns = 1704207845123456789n;
  t.equal(parseRfc3339(formatTimestamp(ns)), ns);
});

t.test('parseDuration follows Go durations', async (t) => {
  t.equal(parseDuration('10m'), 600n * NS_PER_S);
  t.equal(parseDuration('1h30m'), 5400n * NS_PER_S);
  t.equal(parseDuration('1.5s'), 1500000000n);
  t.equal(parseDuration('250ms'), 250000000n);
  t.equal(parseDuration('10'), undefined);
  t.equal(parseDuration('10x'), undefined);
  t.equal(parseDuration(''), undefined);
  t.equal(parseDuration(`${'9'.repeat(309)}s`), undefined, 'a number that is Infinity as a double');
  t.equal(parseDuration('300y'), undefined);
  t.equal(parseDuration('2562047h'), 2562047n * 3600n * NS_PER_S, 'just under 2^63 ns');
  t.equal(parseDuration('2562048h'), undefined, 'over 2^63 ns, as Go refuses it');
  t.equal(parseDuration('2562047h2562047h'), undefined, 'a sum over 2^63 ns');
});

t.test('parseTimeParam takes RFC3339, Unix seconds and durations', async (t) => {
  const now = 2_000_000_000n * NS_PER_S;
  t.equal(parseTimeParam('since', '1704207845.25', now), 1704207845250000000n);
  t.equal(parseTimeParam('since', '1704207845', now), 1704207845000000000n);
  t.equal(parseTimeParam('since', '10m', now), now - 600n * NS_PER_S);
  t.equal(parseTimeParam('until', '2024-01-02T15:04:05Z', now), 1704207845000000000n);
  const err = t.throws(() => parseTimeParam('since', 'yesterday', now)) as InvalidArgumentError;
  t.ok(err instanceof InvalidArgumentError);
  t.equal(err.parameter, 'since');
  t.match(err.message, /since="yesterday"/);
  t.equal(err.statusCode, 400);
});

t.test('formatTimestamp stays right across seconds (it remembers the last second it formatted)', async (t) => {
  const reference = (ns: bigint) => {
    const iso = new Date(Number(ns / NS_PER_S) * 1000).toISOString(); // 2024-01-02T15:04:05.000Z
    return `${iso.slice(0, 19)}.${(ns % NS_PER_S).toString().padStart(9, '0')}Z`;
  };
  let mismatches = 0;
  const start = 1704207845n * NS_PER_S;
  for (const ns of [
    start,
    start + 999_999_999n,
    start + NS_PER_S,
    start,
    start + 86_400n * NS_PER_S + 1n,
    start - 1n,
  ]) {
    if (formatTimestamp(ns) !== reference(ns)) mismatches++;
  }
  for (let i = 0n; i < 5000n; i++) {
    const ns = start + i * 333_333_333n;
    if (formatTimestamp(ns) !== reference(ns)) mismatches++;
  }
  t.equal(mismatches, 0);
});

t.test('splitNanos rounds down, before 1970 too', async (t) => {
  t.same(splitNanos(1_500_000_000n), [1n, 500_000_000n]);
  t.same(splitNanos(-1n), [-1n, 999_999_999n]);
  t.same(splitNanos(0n), [0n, 0n]);
  t.equal(formatTimestamp(-1n), '1969-12-31T23:59:59.999999999Z');
});

t.test('formatUnixSeconds is the since/until form Docker and Podman take', (t) => {
  t.equal(formatUnixSeconds(1704207845n * NS_PER_S + 5n), '1704207845.000000005');
  t.equal(formatUnixSeconds(1704207845n * NS_PER_S - 1n), '1704207844.999999999');
  t.equal(formatUnixSeconds(0n), '0.000000000');
  t.end();
});
