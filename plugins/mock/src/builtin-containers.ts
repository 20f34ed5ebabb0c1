import type { StreamName } from '@enginegate/plugin-api';
import { mockContainerId, type MockContainerSpec } from './simulated-container.js';

/**
 * The containers every started mock engine has. Together they show the whole contract:
 * steady two-stream output, a TTY with colours, bytes that are not UTF-8, and an exit.
 */
export type BuiltinContainerName = 'mock-chatty' | 'mock-tty' | 'mock-bytes' | 'mock-exit';

/** Built-in container names → their (stable) IDs. */
export const MOCK_CONTAINERS: Readonly<Record<BuiltinContainerName, string>> = Object.freeze({
  'mock-chatty': mockContainerId('mock-chatty'),
  'mock-tty': mockContainerId('mock-tty'),
  'mock-bytes': mockContainerId('mock-bytes'),
  'mock-exit': mockContainerId('mock-exit'),
});

interface MockLine {
  stream: StreamName;
  bytes: Buffer;
}

const ascii = (text: string) => Buffer.from(text, 'utf8');

// mock-bytes: what a browser and a terminal must survive. Every line is written at once.
const BYTES_LINES: readonly MockLine[] = [
  { stream: 'stdout', bytes: ascii('mock-bytes: the next lines are not all UTF-8') },
  { stream: 'stdout', bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), ascii(' starts with 0xff 0xfe')]) },
  { stream: 'stdout', bytes: Buffer.concat([ascii('a lone lead byte at the end: '), Buffer.from([0xc3])]) },
  { stream: 'stdout', bytes: Buffer.from('latin-1: café naïve Größe', 'latin1') },
  { stream: 'stdout', bytes: Buffer.concat([ascii('a NUL '), Buffer.from([0x00]), ascii(' inside')]) },
  { stream: 'stdout', bytes: Buffer.alloc(100 * 1024, '0123456789abcdef') },
  // 34,000 three-byte characters: a cut at 64 KiB (65,536 = 3 × 21,845 + 1) lands mid-character.
  { stream: 'stdout', bytes: Buffer.from('日'.repeat(34_000), 'utf8') },
  { stream: 'stdout', bytes: ascii('a CRLF line\r') },
  { stream: 'stderr', bytes: ascii('mock-bytes: a line on stderr, UTF-8: héllo wörld ✓ 🚀') },
  { stream: 'stdout', bytes: ascii('mock-bytes: done; still running, writing nothing more') },
];

/** mock-bytes' lines (copies), in order. */
export function mockBytesLines(): MockLine[] {
  return BYTES_LINES.map(({ stream, bytes }) => ({ stream, bytes: Buffer.from(bytes) }));
}

/** Exactly the bytes mock-bytes writes: every line followed by "\n", both streams in order. */
export function mockBytesOutput(): Buffer {
  return Buffer.concat(BYTES_LINES.flatMap(({ bytes }) => [bytes, Buffer.from('\n')]));
}

const TTY_LEVELS = [
  { label: '\x1b[32mINFO\x1b[0m ', text: (n: number) => `GET /api/items/${n % 97} → 200 in ${((n * 7) % 50) + 1} ms` },
  { label: '\x1b[36mDEBUG\x1b[0m', text: (n: number) => `cache hit ratio ${(n * 13) % 100}%` },
  {
    label: '\x1b[33mWARN\x1b[0m ',
    text: (n: number) => `slow request #${n}: \x1b[1m${((n * 31) % 900) + 100} ms\x1b[0m`,
  },
  { label: '\x1b[31mERROR\x1b[0m', text: (n: number) => `upstream refused connection (attempt ${(n % 5) + 1})` },
];

const EXIT_LINES = 20;
export const MOCK_EXIT_CODE = 3;

export function builtinContainerSpecs(): MockContainerSpec[] {
  return [
    {
      name: 'mock-chatty',
      image: 'enginegate/mock-chatty:latest',
      lineCount: Infinity,
      intervalMs: 100,
      historyLines: 1000,
      // Numbered from 1; odd numbers on stdout, even on stderr.
      lineAt: (i) => {
        const n = i + 1;
        const stream: StreamName = n % 2 === 1 ? 'stdout' : 'stderr';
        return { stream, bytes: ascii(`chatty line ${n} ${stream}`) };
      },
    },
    {
      name: 'mock-tty',
      image: 'enginegate/mock-tty:latest',
      tty: true,
      lineCount: Infinity,
      intervalMs: 1000,
      historyLines: 60,
      // A TTY turns "\n" into "\r\n": the "\r" stays in the line's bytes.
      lineAt: (i) => {
        const level = TTY_LEVELS[i % TTY_LEVELS.length]!;
        return { stream: 'stdout', bytes: ascii(`${level.label} tty line ${i + 1}: ${level.text(i + 1)}\r`) };
      },
    },
    {
      name: 'mock-bytes',
      image: 'enginegate/mock-bytes:latest',
      lineCount: BYTES_LINES.length,
      intervalMs: 0,
      lineAt: (i) => {
        const { stream, bytes } = BYTES_LINES[i]!;
        return { stream, bytes: Buffer.from(bytes) };
      },
    },
    {
      name: 'mock-exit',
      image: 'enginegate/mock-exit:latest',
      lineCount: EXIT_LINES,
      intervalMs: 50,
      // The first line is written as the engine starts, the last 950 ms later; then it exits.
      historyLines: 1,
      exitCode: MOCK_EXIT_CODE,
      lineAt: (i) =>
        i === EXIT_LINES - 1
          ? {
              stream: 'stderr',
              bytes: ascii(`exit line ${i + 1} of ${EXIT_LINES}: exiting with code ${MOCK_EXIT_CODE}`),
            }
          : { stream: 'stdout', bytes: ascii(`exit line ${i + 1} of ${EXIT_LINES}`) },
    },
  ];
}
