import type { StreamName } from '@enginegate/plugin-api';
import type { ReceivedMessage } from '@enginegate/test-client';

/**
 * Decoders for the four WebSocket framings (and NDJSON). Each checks the framing's rules as it
 * goes and throws a FramingError naming the message at fault: a scenario that decodes a
 * stream has also checked that the stream was well formed.
 */
export class FramingError extends Error {
  override readonly name = 'FramingError';
}

export interface DecodedLine {
  type: 'line';
  stream: StreamName;
  bytes: Buffer;
  /** Fixed-width RFC3339Nano, or null for logs without times; absent in framings that carry none. */
  time?: string | null;
  cursor?: string;
}
export type DecodedControl =
  | { type: 'exit'; exitCode: number }
  | { type: 'gap'; reason: string }
  | { type: 'error'; code: string; message: string };
export type DecodedRecord = DecodedLine | DecodedControl;

/** Docker's fixed-width `2006-01-02T15:04:05.000000000Z`. */
export const FIXED_WIDTH_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
export function isValidUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** `v1.json.enginegate` messages (and NDJSON lines, parsed): line, exit, gap and error objects. */
export function decodeJsonObjects(objects: unknown[], where = 'JSON message'): DecodedRecord[] {
  return objects.map((object, index) => decodeJsonObject(object, `${where} ${index}`));
}

export function decodeJsonMessages(messages: ReceivedMessage[]): DecodedRecord[] {
  return messages.map((message, index) => {
    const where = `JSON message ${index}`;
    if (message.isBinary) throw new FramingError(`${where} is a binary message; v1.json.enginegate sends text`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.data.toString('utf8'));
    } catch {
      throw new FramingError(`${where} is not JSON: ${preview(message.data)}`);
    }
    return decodeJsonObject(parsed, where);
  });
}

/** NDJSON body: one JSON object per `\n`-terminated line. */
export function decodeNdjson(body: Buffer): DecodedRecord[] {
  const text = body.toString('utf8');
  if (text.length > 0 && !text.endsWith('\n')) throw new FramingError('the NDJSON body does not end with a newline');
  const lines = text.length === 0 ? [] : text.slice(0, -1).split('\n');
  return lines.map((line, index) => {
    try {
      return decodeJsonObject(JSON.parse(line), `NDJSON line ${index}`);
    } catch (err) {
      if (err instanceof FramingError) throw err;
      throw new FramingError(`NDJSON line ${index} is not JSON: ${line.slice(0, 120)}`);
    }
  });
}

function decodeJsonObject(value: unknown, where: string): DecodedRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FramingError(`${where} is not a JSON object`);
  }
  const object = value as Record<string, unknown>;
  switch (object['type']) {
    case 'line': {
      const { stream, time, cursor, line, base64 } = object;
      if (stream !== 'stdout' && stream !== 'stderr')
        throw new FramingError(`${where}: stream is ${JSON.stringify(stream)}`);
      if (!(time === null || (typeof time === 'string' && FIXED_WIDTH_TIME.test(time)))) {
        throw new FramingError(
          `${where}: time ${JSON.stringify(time)} is neither null nor 2006-01-02T15:04:05.000000000Z`,
        );
      }
      if (typeof cursor !== 'string' || cursor.length === 0) throw new FramingError(`${where}: no cursor`);
      let bytes: Buffer;
      if (typeof line === 'string' && base64 === undefined) {
        bytes = Buffer.from(line, 'utf8');
      } else if (typeof base64 === 'string' && line === undefined) {
        bytes = Buffer.from(base64, 'base64');
        if (bytes.toString('base64') !== base64)
          throw new FramingError(`${where}: base64 ${JSON.stringify(base64.slice(0, 40))} is not canonical base64`);
        if (isValidUtf8(bytes)) throw new FramingError(`${where}: "base64" carries valid UTF-8; it belongs in "line"`);
      } else {
        throw new FramingError(`${where}: a line record has exactly one of "line" (string) and "base64" (string)`);
      }
      return { type: 'line', stream, bytes, time, cursor };
    }
    case 'exit':
      if (!Number.isInteger(object['exitCode']))
        throw new FramingError(`${where}: exit record without an integer exitCode`);
      return { type: 'exit', exitCode: object['exitCode'] as number };
    case 'gap':
      if (typeof object['reason'] !== 'string') throw new FramingError(`${where}: gap record without a reason`);
      return { type: 'gap', reason: object['reason'] };
    case 'error':
      if (typeof object['code'] !== 'string' || typeof object['message'] !== 'string') {
        throw new FramingError(`${where}: error record without code and message`);
      }
      return { type: 'error', code: object['code'], message: object['message'] };
    default:
      throw new FramingError(`${where}: unknown type ${JSON.stringify(object['type'])}`);
  }
}

const STREAM_BY_BYTE: Record<number, StreamName> = { 1: 'stdout', 2: 'stderr' };

/** `v1.binary.enginegate`: a stream byte (1 stdout, 2 stderr, 3 control), then one line's exact bytes. */
export function decodeBinaryMessages(messages: ReceivedMessage[]): DecodedRecord[] {
  return messages.map((message, index) => {
    const where = `binary message ${index}`;
    if (!message.isBinary) throw new FramingError(`${where} is a text message; v1.binary.enginegate sends binary`);
    if (message.data.length === 0) throw new FramingError(`${where} is empty; it needs at least the stream byte`);
    const kind = message.data[0]!;
    const payload = message.data.subarray(1);
    const stream = STREAM_BY_BYTE[kind];
    if (stream) return { type: 'line', stream, bytes: payload };
    if (kind === 3) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload.toString('utf8'));
      } catch {
        throw new FramingError(`${where}: control payload is not JSON: ${preview(payload)}`);
      }
      const record = decodeJsonObject(parsed, where);
      if (record.type === 'line') throw new FramingError(`${where}: a line sent as a control object`);
      return record;
    }
    throw new FramingError(`${where}: stream byte ${kind} (1 stdout, 2 stderr, 3 control)`);
  });
}

/** `v1.text.enginegate`: text, exactly one line per message, no newline. */
export function decodeTextMessages(messages: ReceivedMessage[]): string[] {
  return messages.map((message, index) => {
    if (message.isBinary) throw new FramingError(`text message ${index} is binary; v1.text.enginegate sends text`);
    const text = message.data.toString('utf8');
    if (text.includes('\n'))
      throw new FramingError(`text message ${index} holds a newline: one line per message, without it`);
    return text;
  });
}

/** No subprotocol: binary messages of raw bytes; their concatenation is the output. */
export function decodeRawMessages(messages: ReceivedMessage[]): Buffer {
  messages.forEach((message, index) => {
    if (!message.isBinary) throw new FramingError(`raw message ${index} is text; the raw framing sends binary`);
  });
  return Buffer.concat(messages.map((message) => message.data));
}

export function lineRecords(records: DecodedRecord[]): DecodedLine[] {
  return records.filter((record): record is DecodedLine => record.type === 'line');
}

export function preview(bytes: Buffer, max = 60): string {
  const text = JSON.stringify(bytes.subarray(0, max).toString('latin1'));
  return bytes.length > max ? `${text}… (${bytes.length} bytes)` : text;
}
