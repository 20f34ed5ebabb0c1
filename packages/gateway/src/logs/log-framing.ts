import { isUtf8 } from 'node:buffer';
import { formatTimestamp, utf8BoundaryAtOrBefore, type LineRecord } from '@enginegate/plugin-api';
import type { Member } from '../merged/member.js';
import type { StreamRecord } from '../merged/merged-record.js';

/**
 * How log records become messages. WebSocket clients pick one by subprotocol; plain HTTP uses
 * `raw` (text/plain) or `json` (NDJSON).
 */
export type FramingName = 'raw' | 'text' | 'json' | 'binary';

export const FRAMING_SUBPROTOCOLS: ReadonlyMap<string, FramingName> = new Map([
  ['v1.text.enginegate', 'text'],
  ['v1.json.enginegate', 'json'],
  ['v1.binary.enginegate', 'binary'],
]);

/** A raw line longer than this is cut (at a UTF-8 boundary) into several messages. */
export const RAW_MAX_LINE_BYTES = 64 * 1024;
/** Whole lines are batched into one raw message up to about this size. */
const RAW_BATCH_BYTES = 64 * 1024;

export const BINARY_STREAM_BYTE = { stdout: 1, stderr: 2, control: 3 } as const;

/** One batch of records, framed: strings go out as text messages, Buffers as binary ones. */
export interface FramedBatch {
  messages: Array<Buffer | string>;
  /** Payload bytes of all messages. */
  bytes: number;
  /** Payload bytes of each message (UTF-8 for strings), for sinks that frame the batch at once. */
  lengths: number[];
  /** An `error` record ended the stream here; records after it were not framed. */
  error?: { code: string; message: string };
}

export interface LogFramer {
  frame(records: readonly StreamRecord[]): FramedBatch;
}

export interface FramingOptions {
  /** Prefix lines with `formatTimestamp(time)` and a space (raw, text and binary framings). */
  timestamps: boolean;
  /** Merged streams, raw and text framings: prefix lines with the member's padded name and ` | `. */
  names?: boolean;
}

export function createFramer(name: FramingName, options: FramingOptions): LogFramer {
  switch (name) {
    case 'raw':
      return new RawFramer(options);
    case 'text':
      return new TextFramer(options);
    case 'json':
      return new JsonFramer();
    case 'binary':
      return new BinaryFramer(options);
  }
}

function timestampPrefix(record: LineRecord, options: FramingOptions): string {
  return options.timestamps && record.time !== null ? `${formatTimestamp(record.time)} ` : '';
}

/**
 * `name | ` before each line of a merged stream, names padded to the longest joined so far,
 * as `docker compose logs` prints them. Joins come before a member's lines, so the framer
 * learns each name there.
 */
class NamePrefixes {
  private width = 0;

  constructor(private readonly enabled: boolean) {}

  learn(record: StreamRecord): void {
    if (record.type === 'join') this.width = Math.max(this.width, record.member.name.length);
  }

  of(record: LineRecord & { member?: Member }): string {
    if (!this.enabled || record.member === undefined) return '';
    return `${record.member.name.padEnd(this.width)} | `;
  }
}

function memberFields(member: Member): string {
  return `"container":${JSON.stringify(member.id)},"name":${JSON.stringify(member.name)}`;
}

/**
 * Printable ASCII without a quote or a backslash: its JSON string is its bytes between quotes,
 * with no UTF-8 decoding and nothing to escape (most log lines; a third of the framing's cost).
 */
function isPlainAscii(line: Buffer): boolean {
  for (let i = 0; i < line.length; i++) {
    const byte = line[i]!;
    if (byte < 0x20 || byte > 0x7e || byte === 0x22 || byte === 0x5c) return false;
  }
  return true;
}

/** A record as the v1.json framing (and NDJSON) spells it; a merged stream's name their member. */
export function jsonRecord(record: StreamRecord): string {
  const member = 'member' in record ? `${memberFields(record.member)},` : '';
  switch (record.type) {
    case 'line': {
      // Written by hand, not JSON.stringify({...}): this runs once per line, and only the line
      // text needs escaping (stream, time and cursor are plain ASCII by construction).
      const time = record.time === null ? 'null' : `"${formatTimestamp(record.time)}"`;
      const content = isPlainAscii(record.line)
        ? `"line":"${record.line.toString('latin1')}"`
        : isUtf8(record.line)
          ? `"line":${JSON.stringify(record.line.toString('utf8'))}`
          : `"base64":"${record.line.toString('base64')}"`;
      const partial = record.partial ? ',"partial":true' : '';
      return `{"type":"line",${member}"stream":"${record.stream}","time":${time},${content},"cursor":${JSON.stringify(record.cursor)}${partial}}`;
    }
    case 'exit':
      return `{"type":"exit",${member}"exitCode":${record.exitCode}}`;
    case 'join':
      return `{"type":"join",${member}"index":${record.member.index}}`;
    case 'leave': {
      const exitCode = record.exitCode === undefined ? '' : `,"exitCode":${record.exitCode}`;
      return `{"type":"leave",${member}"index":${record.member.index}${exitCode}}`;
    }
    case 'gap':
      return JSON.stringify({ type: 'gap', reason: record.reason });
    case 'error':
      return JSON.stringify({ type: 'error', code: record.code, message: record.message });
  }
}

/**
 * Raw bytes, stdout and stderr merged, as a terminal shows them: whole lines with their `\n`
 * (none after a `partial` record), several per message; a line over 64 KiB is cut at a UTF-8
 * boundary. Control records have no spelling here. Every message is a copy, so the records'
 * buffers may be reused once this returns.
 */
class RawFramer implements LogFramer {
  private readonly names: NamePrefixes;

  constructor(private readonly options: FramingOptions) {
    this.names = new NamePrefixes(options.names === true);
  }

  frame(records: readonly StreamRecord[]): FramedBatch {
    const messages: Buffer[] = [];
    const lengths: number[] = [];
    let parts: Buffer[] = [];
    let partsBytes = 0;
    let bytes = 0;
    const flush = () => {
      if (partsBytes === 0) return;
      messages.push(Buffer.concat(parts, partsBytes));
      lengths.push(partsBytes);
      bytes += partsBytes;
      parts = [];
      partsBytes = 0;
    };
    const add = (part: Buffer) => {
      parts.push(part);
      partsBytes += part.length;
    };
    for (const record of records) {
      if (record.type === 'error') {
        flush();
        return { messages, bytes, lengths, error: { code: record.code, message: record.message } };
      }
      this.names.learn(record);
      if (record.type !== 'line') continue;
      const prefix = this.names.of(record) + timestampPrefix(record, this.options);
      let line = prefix.length > 0 ? Buffer.concat([Buffer.from(prefix), record.line]) : record.line;
      if (line.length > RAW_MAX_LINE_BYTES) {
        flush();
        while (line.length > RAW_MAX_LINE_BYTES) {
          const cut = utf8BoundaryAtOrBefore(line, RAW_MAX_LINE_BYTES) || RAW_MAX_LINE_BYTES;
          add(line.subarray(0, cut));
          flush();
          line = line.subarray(cut);
        }
      }
      if (partsBytes + line.length + 1 > RAW_BATCH_BYTES) flush();
      add(line);
      if (!record.partial) add(NEWLINE);
    }
    flush();
    return { messages, bytes, lengths };
  }
}

const NEWLINE = Buffer.from('\n');

/** One text message per line, no newline; invalid UTF-8 becomes U+FFFD (toString does that). */
class TextFramer implements LogFramer {
  private readonly names: NamePrefixes;

  constructor(private readonly options: FramingOptions) {
    this.names = new NamePrefixes(options.names === true);
  }

  frame(records: readonly StreamRecord[]): FramedBatch {
    const messages: string[] = [];
    const lengths: number[] = [];
    let bytes = 0;
    for (const record of records) {
      if (record.type === 'error')
        return { messages, bytes, lengths, error: { code: record.code, message: record.message } };
      this.names.learn(record);
      if (record.type !== 'line') continue;
      const text = this.names.of(record) + timestampPrefix(record, this.options) + record.line.toString('utf8');
      const length = Buffer.byteLength(text);
      messages.push(text);
      lengths.push(length);
      bytes += length;
    }
    return { messages, bytes, lengths };
  }
}

/** One JSON object per message, control records included. */
class JsonFramer implements LogFramer {
  frame(records: readonly StreamRecord[]): FramedBatch {
    const messages: string[] = [];
    const lengths: number[] = [];
    let bytes = 0;
    for (const record of records) {
      const text = jsonRecord(record);
      const length = Buffer.byteLength(text);
      messages.push(text);
      lengths.push(length);
      bytes += length;
      if (record.type === 'error')
        return { messages, bytes, lengths, error: { code: record.code, message: record.message } };
    }
    return { messages, bytes, lengths };
  }
}

/**
 * One binary message per record: a stream byte (1 stdout, 2 stderr, 3 control JSON), then — in
 * a merged stream, for lines — the member's index as 4 bytes big-endian, then the exact bytes.
 */
class BinaryFramer implements LogFramer {
  constructor(private readonly options: FramingOptions) {}

  frame(records: readonly StreamRecord[]): FramedBatch {
    const messages: Buffer[] = [];
    const lengths: number[] = [];
    let bytes = 0;
    for (const record of records) {
      let message: Buffer;
      if (record.type === 'line') {
        const prefix = timestampPrefix(record, this.options);
        const index = 'member' in record ? 4 : 0;
        message = Buffer.allocUnsafe(1 + index + prefix.length + record.line.length);
        message[0] = BINARY_STREAM_BYTE[record.stream];
        if ('member' in record) message.writeUInt32BE(record.member.index, 1);
        if (prefix.length > 0) message.write(prefix, 1 + index, 'latin1');
        record.line.copy(message, 1 + index + prefix.length);
      } else {
        const json = Buffer.from(jsonRecord(record));
        message = Buffer.allocUnsafe(1 + json.length);
        message[0] = BINARY_STREAM_BYTE.control;
        json.copy(message, 1);
      }
      messages.push(message);
      lengths.push(message.length);
      bytes += message.length;
      if (record.type === 'error')
        return { messages, bytes, lengths, error: { code: record.code, message: record.message } };
    }
    return { messages, bytes, lengths };
  }
}
