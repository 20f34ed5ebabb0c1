import { isUtf8 } from 'node:buffer';
import { TimestampParser, type StreamName, type UnixNanos } from '@enginegate/plugin-api';

/** One entry of a log file: a whole line or a piece of one. */
export interface LogEntry {
  stream: StreamName;
  /** null for formats without times (a raw `file://` log). */
  time: UnixNanos | null;
  /** The output bytes, without the newline that ended the line. */
  content: Buffer;
  /** False for a piece of a longer line (CRI `P`, a json-file entry without its `\n`). */
  endsLine: boolean;
}

/** How one log file format turns a physical line (without its `\n`) into an entry. */
export interface LogFileFormat {
  readonly name: 'cri' | 'json-file' | 'raw' | 'journald-json';
  /** True when every entry carries a time (`since`, time cursors and the binary search work). */
  readonly timestamped: boolean;
  /** undefined for a line that is not in this format (it is skipped). */
  parse(line: Buffer): LogEntry | undefined;
  /** The time alone, cheaper than `parse`; used to binary-search a file for `since`. */
  timeOf(line: Buffer): UnixNanos | undefined;
}

const SPACE = 0x20;
const COLON = 0x3a;

/** `stdout` or `stderr` spelled by bytes [start, end), without making a string. */
function streamAt(line: Buffer, start: number, end: number): StreamName | undefined {
  if (end - start !== 6 || line[start] !== 0x73 /* s */ || line[start + 1] !== 0x74 /* t */) return undefined;
  if (line[start + 2] === 0x64 /* d */ && line[start + 3] === 0x6f /* o */) {
    return line[start + 4] === 0x75 /* u */ && line[start + 5] === 0x74 /* t */ ? 'stdout' : undefined;
  }
  return line[start + 2] === 0x64 /* d */ &&
    line[start + 3] === 0x65 /* e */ &&
    line[start + 4] === 0x72 /* r */ &&
    line[start + 5] === 0x72 /* r */
    ? 'stderr'
    : undefined;
}

const criTimes = new TimestampParser();

/**
 * The CRI log format the kubelet reads (`containerd/pkg/cri/io`):
 * `<RFC3339Nano time> <stdout|stderr> <tag> <content>`, the tag `F` for a full line or `P` for
 * a piece of a line the runtime split at `max_container_log_line_size`, possibly followed by
 * `:`-separated flags. Times may carry a zone offset or fewer than 9 fraction digits.
 */
export const criFormat: LogFileFormat = {
  name: 'cri',
  timestamped: true,
  parse(line) {
    const timeEnd = line.indexOf(SPACE);
    if (timeEnd <= 0) return undefined;
    const time = criTimes.parse(line, 0, timeEnd);
    if (time === undefined) return undefined;
    const streamEnd = line.indexOf(SPACE, timeEnd + 1);
    const stream = streamAt(line, timeEnd + 1, streamEnd === -1 ? line.length : streamEnd);
    if (!stream) return undefined;
    if (streamEnd === -1) return { stream, time, content: line.subarray(line.length), endsLine: true };
    const tag = line[streamEnd + 1];
    const afterTag = line[streamEnd + 2];
    if (
      (tag === 0x46 /* F */ || tag === 0x50) /* P */ &&
      (afterTag === SPACE || afterTag === COLON || afterTag === undefined)
    ) {
      const tagEnd = afterTag === SPACE ? streamEnd + 2 : line.indexOf(SPACE, streamEnd + 1);
      const content = tagEnd === -1 ? line.subarray(line.length) : line.subarray(tagEnd + 1);
      return { stream, time, content, endsLine: tag === 0x46 };
    }
    // Logs written before the tag existed: the content follows the stream directly.
    return { stream, time, content: line.subarray(streamEnd + 1), endsLine: true };
  },
  timeOf(line) {
    const timeEnd = line.indexOf(SPACE);
    if (timeEnd <= 0) return undefined;
    return criTimes.parse(line, 0, timeEnd);
  },
};

const TIME_KEY = Buffer.from('"time":"');
const jsonFileTimes = new TimestampParser();
const LOG_OPEN = Buffer.from('{"log":"');
const STREAM_KEY = Buffer.from('","stream":"');
const TIME_AFTER_STREAM = Buffer.from('","time":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** `line` holds `expected` at `at` (a loop: Buffer.compare's checks cost more for a dozen bytes). */
function bytesAt(line: Buffer, at: number, expected: Buffer): boolean {
  if (at + expected.length > line.length) return false;
  for (let i = 0; i < expected.length; i++) if (line[at + i] !== expected[i]) return false;
  return true;
}

/** Any json-file line, through JSON.parse. */
function parseJsonFileLine(line: Buffer): LogEntry | undefined {
  let entry: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    entry = JSON.parse(line.toString('utf8')) as typeof entry;
  } catch {
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null || typeof entry.log !== 'string') return undefined;
  const stream = entry.stream === 'stderr' ? 'stderr' : entry.stream === 'stdout' ? 'stdout' : undefined;
  const time = typeof entry.time === 'string' ? jsonFileTimes.parseText(entry.time) : undefined;
  if (!stream || time === undefined) return undefined;
  const endsLine = entry.log.endsWith('\n');
  const text = endsLine ? entry.log.slice(0, -1) : entry.log;
  return { stream, time, content: Buffer.from(text, 'utf8'), endsLine };
}

/**
 * The line as Docker and nerdctl write it — `{"log":"…","stream":"…","time":"…"}`, those keys
 * in that order — with a `log` that has no escape but its final `\n`, read from its bytes without
 * JSON.parse: then the string's bytes are the content. undefined for anything else (other
 * escapes, control characters, invalid UTF-8, other keys or order), which JSON.parse reads.
 */
function parseUnescapedJsonFileLine(line: Buffer): LogEntry | undefined {
  if (line.length < 48 || !bytesAt(line, 0, LOG_OPEN)) return undefined;
  const start = LOG_OPEN.length;
  const logEnd = line.indexOf(QUOTE, start);
  if (logEnd === -1) return undefined;
  // The only escape allowed is the `\n` that ends a whole line, right before the quote.
  const backslash = line.indexOf(BACKSLASH, start);
  const endsLine = backslash === logEnd - 2 && line[logEnd - 1] === 0x6e; /* n */
  if (backslash !== -1 && backslash < logEnd && !endsLine) return undefined;
  const contentEnd = endsLine ? backslash : logEnd;
  const streamStart = logEnd + STREAM_KEY.length;
  const timeKeyEnd = streamStart + 6 + TIME_AFTER_STREAM.length;
  if (timeKeyEnd + 2 > line.length) return undefined;
  for (let i = start; i < contentEnd; i++) if (line[i]! < SPACE) return undefined;
  if (!bytesAt(line, logEnd, STREAM_KEY)) return undefined;
  const stream = streamAt(line, streamStart, streamStart + 6);
  if (!stream || !bytesAt(line, streamStart + 6, TIME_AFTER_STREAM)) return undefined;
  const timeEnd = line.length - 2;
  if (line[timeEnd] !== QUOTE || line[timeEnd + 1] !== 0x7d /* } */ || line.indexOf(QUOTE, timeKeyEnd) !== timeEnd) {
    return undefined;
  }
  const time = jsonFileTimes.parse(line, timeKeyEnd, timeEnd);
  const content = line.subarray(start, contentEnd);
  if (time === undefined || !isUtf8(content)) return undefined;
  return { stream, time, content, endsLine };
}

/**
 * Docker's and nerdctl's json-file format: one `{"log":"…","stream":"…","time":"…"}` object
 * per line. A `log` ending in `\n` is a whole line; one without is a piece of a longer line.
 */
export const jsonFileFormat: LogFileFormat = {
  name: 'json-file',
  timestamped: true,
  parse(line) {
    return parseUnescapedJsonFileLine(line) ?? parseJsonFileLine(line);
  },
  timeOf(line) {
    // Writers put `time` last; searching for it avoids a JSON.parse per probe.
    const at = line.lastIndexOf(TIME_KEY);
    if (at !== -1) {
      const start = at + TIME_KEY.length;
      const end = line.indexOf(0x22, start);
      if (end !== -1) {
        const time = jsonFileTimes.parse(line, start, end);
        if (time !== undefined) return time;
      }
    }
    return jsonFileFormat.parse(line)?.time ?? undefined;
  },
};

/**
 * What `ctr run --log-uri file://…` writes: the container's bytes as they came, stdout and
 * stderr merged, no times. Every line is reported as stdout.
 */
export const rawFormat: LogFileFormat = {
  name: 'raw',
  timestamped: false,
  parse(line) {
    return { stream: 'stdout', time: null, content: line, endsLine: true };
  },
  timeOf() {
    return undefined;
  },
};

/** journald priorities nerdctl sends with: info (6) for stdout, err (3) for stderr. */
const JOURNAL_PRIORITY_ERR = '3';

/**
 * `journalctl -o json` output, one entry per line, as nerdctl's journald driver writes them:
 * one whole line per entry, stderr at priority 3. `MESSAGE` is an array of bytes when the
 * output was not UTF-8; times are `__REALTIME_TIMESTAMP` microseconds.
 */
export const journaldJsonFormat: LogFileFormat = {
  name: 'journald-json',
  timestamped: true,
  parse(line) {
    let entry: { MESSAGE?: unknown; PRIORITY?: unknown; __REALTIME_TIMESTAMP?: unknown };
    try {
      entry = JSON.parse(line.toString('utf8')) as typeof entry;
    } catch {
      return undefined;
    }
    if (typeof entry !== 'object' || entry === null) return undefined;
    const micros = entry.__REALTIME_TIMESTAMP;
    if (typeof micros !== 'string' || !/^\d{1,20}$/.test(micros)) return undefined;
    let content: Buffer;
    if (typeof entry.MESSAGE === 'string') content = Buffer.from(entry.MESSAGE, 'utf8');
    else if (Array.isArray(entry.MESSAGE)) content = Buffer.from(entry.MESSAGE as number[]);
    else return undefined;
    // journald keeps the newline of a message that ended in one; a line record has none.
    if (content.length > 0 && content[content.length - 1] === 0x0a) content = content.subarray(0, -1);
    const stream = String(entry.PRIORITY) === JOURNAL_PRIORITY_ERR ? 'stderr' : 'stdout';
    return { stream, time: BigInt(micros) * 1000n, content, endsLine: true };
  },
  timeOf(line) {
    return journaldJsonFormat.parse(line)?.time ?? undefined;
  },
};
