// What every answer of the gateway must be, whatever was sent: no 5xx but the documented 503s,
// every error the documented JSON shape with a code docs/api.md lists (at its status), and no
// run of more than 64 characters of the client's input repeated in a body, a header or a log line.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MAX_ECHOED_INPUT_CHARS } from '@enginegate/plugin-api';
import type { RawAnswer } from './raw-exchange.js';

const docsPath = fileURLToPath(new URL('../../docs/api.md', import.meta.url));

/** docs/api.md's Errors table: code → status. */
export const DOCUMENTED_ERRORS: ReadonlyMap<string, number> = new Map(
  [...readFileSync(docsPath, 'utf8').matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)].map(([, status, code]) => [
    code!,
    Number(status),
  ]),
);

/** The documented 503 codes of the table that say they carry `Retry-After`. */
const RETRY_AFTER_CODES = new Set(['ENGINE_UNAVAILABLE', 'TOO_MANY_CONNECTIONS']);

const WINDOW = MAX_ECHOED_INPUT_CHARS + 1;
/** Every run of WINDOW characters holds a probe starting at a multiple of STRIDE. */
const STRIDE = 32;
const PROBE = WINDOW - STRIDE;

/**
 * True when `text` repeats more than 64 consecutive characters of `input`. Probes every 32nd
 * position first (a run of 65 holds one of them whole), so a 16 KB input costs little.
 */
export function echoes(text: string, input: string): boolean {
  if (input.length < WINDOW || text.length < WINDOW) return false;
  for (let probe = 0; probe + PROBE <= text.length; probe += STRIDE) {
    if (!input.includes(text.slice(probe, probe + PROBE))) continue;
    for (let at = Math.max(0, probe - STRIDE); at <= probe && at + WINDOW <= text.length; at += 1) {
      if (input.includes(text.slice(at, at + WINDOW))) return true;
    }
  }
  return false;
}

/**
 * `text` with its quoted inputs (`origin "\\\\…"`, quoteInput's JSON string syntax) decoded inside
 * their quotes: 64 backslashes quoted are 128 characters, and no echo of more than 64.
 */
function unquoted(text: string): string {
  return text.replace(/"(?:[^"\\]|\\.)*"/g, (literal) => {
    try {
      // A private-use character for the quotes: an input of `"`s would run on into them.
      return `\uE000${String(JSON.parse(literal))}\uE000`;
    } catch {
      return literal;
    }
  });
}

/** The first input that `text` repeats too much of, cut for a report. */
export function echoedInput(text: string, inputs: readonly string[]): string | undefined {
  const plain = unquoted(text);
  const input = inputs.find((one) => echoes(plain, one));
  return input === undefined ? undefined : `${JSON.stringify(input.slice(0, 80))} (${input.length} chars)`;
}

function errorShapeProblems(answer: RawAnswer): string[] {
  const problems: string[] = [];
  if (!/^application\/json/.test(answer.headers['content-type'] ?? '')) {
    problems.push(`content-type ${answer.headers['content-type']}`);
  }
  let json: any;
  try {
    json = JSON.parse(answer.body.toString('utf8'));
  } catch {
    return [...problems, `body is not JSON: ${JSON.stringify(answer.body.toString('utf8').slice(0, 200))}`];
  }
  const error = json?.error;
  const keys = json !== null && typeof json === 'object' ? Object.keys(json) : [];
  if (keys.length !== 1 || typeof error?.code !== 'string' || typeof error?.message !== 'string') {
    return [...problems, `not {"error":{"code","message"}}: ${JSON.stringify(json).slice(0, 200)}`];
  }
  const documented = DOCUMENTED_ERRORS.get(error.code);
  if (documented === undefined) problems.push(`code ${error.code} is not in docs/api.md`);
  else if (documented !== answer.status) problems.push(`code ${error.code} documented as ${documented}`);
  if (RETRY_AFTER_CODES.has(error.code) && answer.headers['retry-after'] === undefined) {
    problems.push(`${error.code} without Retry-After`);
  }
  return problems;
}

/** Everything wrong with `answer` to a request that sent `inputs`; empty when it is as documented. */
export function answerProblems(answer: RawAnswer, inputs: readonly string[], headRequest = false): string[] {
  const problems: string[] = [];
  if (answer.status >= 500 && answer.status !== 503) problems.push(`status ${answer.status}`);
  // A HEAD answer has the headers of the GET's but no body to check.
  if (answer.status >= 400 && !headRequest) problems.push(...errorShapeProblems(answer));
  // A JSON body is checked by its message (escapes would double a backslash into an echo),
  // anything else as the text it is.
  if (answer.status >= 400) {
    const message = parsedMessage(answer.body);
    const echoed = echoedInput(message ?? answer.body.toString('utf8'), inputs);
    if (echoed) problems.push(`the body repeats more than 64 characters of ${echoed}`);
  }
  const echoedInHead = echoedInput(answer.head, inputs);
  if (echoedInHead) problems.push(`the headers repeat more than 64 characters of ${echoedInHead}`);
  return problems.map((problem) => `${answer.status}: ${problem}`);
}

function parsedMessage(body: Buffer): string | undefined {
  try {
    const parsed: any = JSON.parse(body.toString('utf8'));
    const message: unknown = parsed?.error?.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

/** Every string in a parsed JSON value (keys included): a log line's or a body's, for the echo check. */
export function jsonStrings(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) value.forEach((item) => jsonStrings(item, into));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      into.push(key);
      jsonStrings(item, into);
    }
  }
  return into;
}
