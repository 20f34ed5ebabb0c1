// The values a fuzz request is made of: text of every kind (unicode, binary, oversized up to
// 16 KB, percent garbage), container references, and the query values the contract names.
import fc from 'fast-check';

const PERCENT_GARBAGE = ['%', '%z', '%zz', '%e2%82', '%ff', '%00', '%25%', '%%%', '%C0%AF', '%uD83D', '%0d%0a'];

/** Up to 16 KB of a short pattern repeated (cheap to generate, long enough for every limit). */
export const oversized = fc
  .tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.integer({ min: 65, max: 16 * 1024 }))
  .map(([pattern, length]) => pattern.repeat(Math.ceil(length / pattern.length)).slice(0, length));

/** Lengths around the limits: 64/65 echoed characters, 255/256 reference bytes, 1,024/1,025 path segment. */
export const boundary = fc
  .tuple(fc.constantFrom(63, 64, 65, 255, 256, 1023, 1024, 1025, 4096), fc.constantFrom('a', 'é', '日', '🚀', '0'))
  .map(([length, char]) => char.repeat(length));

export const percentGarbage = fc
  .tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...PERCENT_GARBAGE), fc.string({ maxLength: 8 }))
  .map(([before, garbage, after]) => `${before}${garbage}${after}`);

/** Any text a client might send. */
export const anyText = fc.oneof(
  { arbitrary: fc.string({ maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 2 },
  { arbitrary: oversized, weight: 2 },
  { arbitrary: boundary, weight: 1 },
  { arbitrary: percentGarbage, weight: 2 },
);

/** Container references: names, IDs, prefixes of IDs, name-shaped strings, anything. */
export function containerRef(containers: ReadonlyArray<{ id: string; names: string[] }>): fc.Arbitrary<string> {
  const ids = containers.map((c) => c.id);
  const names = containers.flatMap((c) => c.names);
  return fc.oneof(
    { arbitrary: fc.constantFrom(...names), weight: 4 },
    { arbitrary: fc.constantFrom(...ids), weight: 1 },
    {
      arbitrary: fc.tuple(fc.constantFrom(...ids), fc.integer({ min: 0, max: 64 })).map(([id, n]) => id.slice(0, n)),
      weight: 1,
    },
    { arbitrary: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,20}$/), weight: 1 },
    { arbitrary: anyText, weight: 2 },
  );
}

const bool = fc.constantFrom('true', 'false', '1', '0', '', 'TRUE', 'yes', '2', 'true ');
const nanos = fc.integer({ min: 0, max: 999_999_999 }).map((n) => String(n).padStart(9, '0'));
const rfc3339 = fc
  .tuple(fc.date({ min: new Date(-1e13), max: new Date(4e13), noInvalidDate: true }), nanos)
  .map(([date, fraction]) => date.toISOString().replace(/\.\d{3}Z$/, `.${fraction}Z`));
const duration = fc
  .tuple(fc.integer({ min: -1e6, max: 1e9 }), fc.constantFrom('ns', 'us', 'µs', 'ms', 's', 'm', 'h', 'd', ''))
  .map(([n, unit]) => `${n}${unit}`);
const time = fc.oneof(
  rfc3339,
  fc.double({ noNaN: false }).map(String),
  fc.integer({ min: 0, max: 2e9 }).map(String),
  duration,
  fc.constantFrom(`${'9'.repeat(309)}s`, '2562048h', 'NaN', 'Infinity', '-0', '1e400', '2024-02-30T00:00:00Z'),
  anyText,
);
const cursor = fc.oneof(
  fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.nat()).map(([at, n]) => `t${at}.${n}`),
  fc
    .tuple(fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.array(fc.nat(), { maxLength: 4 }))
    .map(([at, members]) => `m${at}${members.map((n) => `.${n}`).join('')}`),
  fc.tuple(fc.nat(), fc.nat()).map(([at, n]) => `t${at}.${n}@pm0.0.${n}`),
  anyText,
);

const otherValue = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), anyText);
const boolValue = fc.oneof({ arbitrary: bool, weight: 4 }, { arbitrary: anyText, weight: 1 });
const BY_PARAMETER: Record<string, fc.Arbitrary<string>> = {
  follow: boolValue,
  timestamps: boolValue,
  stdout: boolValue,
  stderr: boolValue,
  all: boolValue,
  prefix: boolValue,
  tail: fc.oneof(
    fc.nat({ max: 2000 }).map(String),
    fc.constantFrom('all', '-1', '0', '1e3', '0x10', '9'.repeat(30)),
    anyText,
  ),
  since: time,
  until: time,
  after: cursor,
  namespace: fc.oneof(fc.constantFrom('default', 'moby', 'k8s.io'), anyText),
  label: fc.oneof(
    fc.tuple(anyText, anyText).map(([key, value]) => `${key}=${value}`),
    fc.constantFrom('com.docker.compose.project', 'com.docker.compose.project=demo', '=', '==', ''),
    anyText,
  ),
};

/**
 * Per query parameter of the contract, values valid and not (`container` takes `ref`); any
 * other name gets any text. Built once: fast-check arbitraries cost to build (a regex's most).
 */
export function queryValues(ref: fc.Arbitrary<string>): (name: string) => fc.Arbitrary<string> {
  // Own keys only: a generated name may be `constructor`.
  return (name) => (name === 'container' ? ref : Object.hasOwn(BY_PARAMETER, name) ? BY_PARAMETER[name]! : otherValue);
}

export const CONTRACT_PARAMETERS = [
  'follow',
  'tail',
  'since',
  'until',
  'timestamps',
  'stdout',
  'stderr',
  'after',
  'namespace',
  'container',
  'label',
  'project',
  'all',
  'service',
  'prefix',
] as const;
