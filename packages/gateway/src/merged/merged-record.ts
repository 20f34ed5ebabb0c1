import type { ExitRecord, LineRecord, LogRecord } from '@enginegate/plugin-api';
import type { Member } from './member.js';

/** A container joined a merged stream: it is `member` from here on. */
export interface JoinRecord {
  type: 'join';
  member: Member;
}

/** A container left a merged stream: it exited (with its code) or was removed. */
export interface LeaveRecord {
  type: 'leave';
  member: Member;
  exitCode?: number;
}

/** A line of one member; its cursor is the merged stream's. */
export type MemberLineRecord = LineRecord & { member: Member };
export type MemberExitRecord = ExitRecord & { member: Member };

/**
 * What a log stream sends: a single container's records, or a merged stream's, where line and
 * exit records name their member and joins and leaves are records too.
 */
export type StreamRecord = LogRecord | MemberLineRecord | MemberExitRecord | JoinRecord | LeaveRecord;
