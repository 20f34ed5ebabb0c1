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
  /**
   * The line in bytes [start, end) of `line` (the whole buffer by default); undefined for a line
   * that is not in this format (it is skipped). The entry's content is a view of those bytes.
   */
  parse(line: Buffer, start?: number, end?: number): LogEntry | undefined;
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
 * The first `byte` in [from, end) of `buf`, else -1. A loop: `buf.indexOf` cannot stop at `end`
 * and would search the rest of a 64 KiB chunk for a byte the line lacks.
 */
function indexIn(buf: Buffer, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/**
 * The CRI log format the kubelet reads (`containerd/pkg/cri/io`):
 * `<RFC3339Nano time> <stdout|stderr> <tag> <content>`, the tag `F` for a full line or `P` for
 * a piece of a line the runtime split at `max_container_log_line_size`, possibly followed by
 * `:`-separated flags. Times may carry a zone offset or fewer than 9 fraction digits.
 */
export const criFormat: LogFileFormat = {
  name: 'cri',
  timestamped: true,
  parse(line, start = 0, end = line.length) {
    const timeEnd = indexIn(line, SPACE, start, end);
    if (timeEnd <= start) return undefined;
    const time = criTimes.parse(line, start, timeEnd);
    if (time === undefined) return undefined;
    const streamEnd = indexIn(line, SPACE, timeEnd + 1, end);
    const stream = streamAt(line, timeEnd + 1, streamEnd === -1 ? end : streamEnd);
    if (!stream) return undefined;
    if (streamEnd === -1) return { stream, time, content: line.subarray(end, end), endsLine: true };
    const tag = streamEnd + 1 < end ? line[streamEnd + 1] : undefined;
    const afterTag = streamEnd + 2 < end ? line[streamEnd + 2] : undefined;
    if (
      (tag === 0x46 /* F */ || tag === 0x50) /* P */ &&
      (afterTag === SPACE || afterTag === COLON || afterTag === undefined)
    ) {
      const tagEnd = afterTag === SPACE ? streamEnd + 2 : indexIn(line, SPACE, streamEnd + 1, end);
      const content = tagEnd === -1 ? line.subarray(end, end) : line.subarray(tagEnd + 1, end);
      return { stream, time, content, endsLine: tag === 0x46 };
    }
    // Logs written before the tag existed: the content follows the stream directly.
    return { stream, time, content: line.subarray(streamEnd + 1, end), endsLine: true };
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

/** `line` holds `expected` at `at`, before `end` (a loop: Buffer.compare's checks cost more for a dozen bytes). */
function bytesAt(line: Buffer, at: number, expected: Buffer, end: number): boolean {
  if (at + expected.length > end) return false;
  for (let i = 0; i < expected.length; i++) if (line[at + i] !== expected[i]) return false;
  return true;
}

/** Any json-file line, through JSON.parse. */
function parseJsonFileLine(line: Buffer, start: number, end: number): LogEntry | undefined {
  let entry: { log?: unknown; stream?: unknown; time?: unknown };
  try {
    entry = JSON.parse(line.toString('utf8', start, end)) as typeof entry;
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
function parseUnescapedJsonFileLine(line: Buffer, lineStart: number, lineEnd: number): LogEntry | undefined {
  if (lineEnd - lineStart < 48 || !bytesAt(line, lineStart, LOG_OPEN, lineEnd)) return undefined;
  const start = lineStart + LOG_OPEN.length;
  // One pass to the content's first quote, backslash or control character.
  let contentEnd = start;
  for (; contentEnd < lineEnd; contentEnd++) {
    const byte = line[contentEnd]!;
    if (byte === QUOTE || byte === BACKSLASH || byte < SPACE) break;
  }
  // The only escape allowed is the `\n` that ends a whole line, right before the quote.
  const endsLine = line[contentEnd] === BACKSLASH;
  if (endsLine && (line[contentEnd + 1] !== 0x6e /* n */ || line[contentEnd + 2] !== QUOTE)) return undefined;
  const logEnd = endsLine ? contentEnd + 2 : contentEnd;
  if (logEnd >= lineEnd || line[logEnd] !== QUOTE) return undefined;
  const streamStart = logEnd + STREAM_KEY.length;
  const timeKeyEnd = streamStart + 6 + TIME_AFTER_STREAM.length;
  if (timeKeyEnd + 2 > lineEnd) return undefined;
  if (!bytesAt(line, logEnd, STREAM_KEY, lineEnd)) return undefined;
  const stream = streamAt(line, streamStart, streamStart + 6);
  if (!stream || !bytesAt(line, streamStart + 6, TIME_AFTER_STREAM, lineEnd)) return undefined;
  const timeEnd = lineEnd - 2;
  if (
    line[timeEnd] !== QUOTE ||
    line[timeEnd + 1] !== 0x7d /* } */ ||
    indexIn(line, QUOTE, timeKeyEnd, lineEnd) !== timeEnd
  ) {
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
  parse(line, start = 0, end = line.length) {
    return parseUnescapedJsonFileLine(line, start, end) ?? parseJsonFileLine(line, start, end);
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
  parse(line, start = 0, end = line.length) {
    return { stream: 'stdout', time: null, content: line.subarray(start, end), endsLine: true };
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
  parse(line, start = 0, end = line.length) {
    let entry: { MESSAGE?: unknown; PRIORITY?: unknown; __REALTIME_TIMESTAMP?: unknown };
    try {
      entry = JSON.parse(line.toString('utf8', start, end)) as typeof entry;
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
