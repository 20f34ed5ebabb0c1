import type { ReceivedMessage } from '@enginegate/test-client';
import { FramingError, decodeJsonObjects, type DecodedLine, type DecodedRecord } from './framing-decoders.js';

/** Which container of a merged stream a record belongs to. */
export interface MemberFields {
  container: string;
  name: string;
}
export type MergedLine = DecodedLine & MemberFields;
export type MergedRecord =
  | MergedLine
  | ({ type: 'exit'; exitCode: number } & MemberFields)
  | ({ type: 'join'; index: number } & MemberFields)
  | ({ type: 'leave'; index: number; exitCode?: number } & MemberFields)
  | Exclude<DecodedRecord, DecodedLine | { type: 'exit' }>;

function memberFields(object: Record<string, unknown>, where: string): MemberFields {
  const { container, name } = object;
  if (typeof container !== 'string' || container.length === 0 || typeof name !== 'string')
    throw new FramingError(`${where}: a merged ${String(object['type'])} record names no "container" and "name"`);
  return { container, name };
}

function memberIndex(object: Record<string, unknown>, where: string): number {
  const index = object['index'];
  if (!Number.isInteger(index)) throw new FramingError(`${where}: ${String(object['type'])} without an integer index`);
  return index as number;
}

/**
 * A merged stream's `v1.json.enginegate` messages: line and exit records carry their member's
 * `container` and `name`; `join` and `leave` are records of their own (contract, "Merged streams").
 */
export function decodeMergedJsonMessages(messages: ReceivedMessage[]): MergedRecord[] {
  return messages.map((message, i) => {
    const where = `merged JSON message ${i}`;
    if (message.isBinary) throw new FramingError(`${where} is a binary message; v1.json.enginegate sends text`);
    let object: Record<string, unknown>;
    try {
      object = JSON.parse(message.data.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new FramingError(`${where} is not JSON`);
    }
    switch (object['type']) {
      case 'join':
        return { type: 'join', ...memberFields(object, where), index: memberIndex(object, where) };
      case 'leave': {
        const exitCode = object['exitCode'];
        if (exitCode !== undefined && !Number.isInteger(exitCode))
          throw new FramingError(`${where}: leave with a non-integer exitCode`);
        const leave = { type: 'leave' as const, ...memberFields(object, where), index: memberIndex(object, where) };
        return exitCode === undefined ? leave : { ...leave, exitCode: exitCode as number };
      }
      case 'line':
      case 'exit': {
        const record = decodeJsonObjects([object], where)[0]!;
        return { ...record, ...memberFields(object, where) };
      }
      default:
        return decodeJsonObjects([object], where)[0] as MergedRecord;
    }
  });
}

export function mergedLines(records: MergedRecord[], container?: string): MergedLine[] {
  return records.filter(
    (record): record is MergedLine =>
      record.type === 'line' && (container === undefined || record.container === container),
  );
}
