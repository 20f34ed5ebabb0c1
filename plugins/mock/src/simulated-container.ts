import { createHash } from 'node:crypto';
import {
  InvalidArgumentError,
  encodeTimeCursor,
  formatTimestamp,
  msToNanos,
  validateContainerRef,
  type ContainerInfo,
  type LineRecord,
  type StreamName,
  type TimeCursor,
  type UnixNanos,
} from '@enginegate/plugin-api';

/** What a simulated container writes; see the package README for the time model. */
export interface MockContainerSpec {
  name: string;
  /** 64 hex digits; default: SHA-256 of the name, so it is stable across restarts. */
  id?: string;
  /** A TTY writes every line on stdout, raw (keep `\r` of a CRLF in the bytes). */
  tty?: boolean;
  /** Total lines the container writes; Infinity writes forever (needs intervalMs > 0). */
  lineCount: number;
  /** Line i's stream and bytes, without the newline. Must be a pure function of i. */
  lineAt: (i: number) => { stream: StreamName; bytes: Buffer };
  /** Time between two lines; 0 writes every line at once, at creation. */
  intervalMs: number;
  /** Lines already written when the container is created (their times lie in the past). */
  historyLines?: number;
  /** When set, the container exits with this code at its last line's time; else it keeps running. */
  exitCode?: number;
  image?: string;
  /** Its labels, e.g. Compose's `com.docker.compose.project`; default none. */
  labels?: Record<string, string>;
}

export const DEFAULT_MOCK_IMAGE = 'enginegate/mock:latest';
const FULL_ID = /^[0-9a-f]{64}$/;

export function mockContainerId(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/**
 * A container whose output is a pure function of the clock: line i is written at
 * `firstLineTime + i * interval`, and exists once that time has come. Nothing is stored, so
 * `tail`, `since`/`until`, cursors and follow are index arithmetic, exact at any volume.
 */
export class SimulatedContainer {
  readonly id: string;
  readonly name: string;
  readonly tty: boolean;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly lineCount: number;
  readonly exitCode: number | undefined;
  readonly createdAt: UnixNanos;
  private readonly firstLineTime: UnixNanos;
  private readonly interval: UnixNanos;
  private readonly lineAt: MockContainerSpec['lineAt'];

  constructor(spec: MockContainerSpec, createdAt: UnixNanos) {
    checkSpec(spec);
    this.name = spec.name;
    this.id = spec.id ?? mockContainerId(spec.name);
    this.tty = spec.tty ?? false;
    this.image = spec.image ?? DEFAULT_MOCK_IMAGE;
    this.labels = Object.freeze({ ...spec.labels });
    this.lineCount = spec.lineCount;
    this.exitCode = spec.exitCode;
    this.lineAt = spec.lineAt;
    this.createdAt = createdAt;
    this.interval = msToNanos(spec.intervalMs);
    // Exactly `historyLines` lines exist at creation: the last of them is stamped `createdAt`.
    // With interval 0 every line is stamped `createdAt`.
    const history = spec.historyLines ?? 0;
    this.firstLineTime = createdAt - BigInt(history - 1) * this.interval;
  }

  timeOf(index: number): UnixNanos {
    return this.firstLineTime + BigInt(index) * this.interval;
  }

  /** Index among the lines that share this line's time: the `seq` of its cursor. */
  seqOf(index: number): number {
    return this.interval === 0n ? index : 0;
  }

  cursorOf(index: number): string {
    return encodeTimeCursor(this.timeOf(index), this.seqOf(index));
  }

  /** Index of the first line stamped at or after `time` (lineCount when there is none). */
  firstLineAtOrAfter(time: UnixNanos): number {
    if (time <= this.firstLineTime) return 0;
    if (this.interval === 0n) return this.lineCount;
    const ceil = (time - this.firstLineTime + this.interval - 1n) / this.interval;
    return Math.min(Number(ceil), this.lineCount);
  }

  /** Index of the first line stamped after `time`. */
  firstLineAfter(time: UnixNanos): number {
    return this.firstLineAtOrAfter(time + 1n);
  }

  /** How many lines exist at `now`. */
  writtenBy(now: UnixNanos): number {
    return this.firstLineAfter(now);
  }

  /** Index of the first line behind `cursor` (plugin-api's `isAfterCursor` rule, in closed form). */
  firstLineBehind(cursor: TimeCursor): number {
    const sameTimeStart = this.firstLineAtOrAfter(cursor.time);
    const sameTimeEnd = this.firstLineAfter(cursor.time);
    // Lines stamped `cursor.time` carry seq 0, 1, … in index order; skip seq + 1 of them.
    return Math.min(sameTimeStart + cursor.seq + 1, sameTimeEnd);
  }

  /** When the container exits, or undefined when it runs forever. */
  get exitTime(): UnixNanos | undefined {
    if (this.exitCode === undefined) return undefined;
    return this.lineCount > 0 ? this.timeOf(this.lineCount - 1) : this.createdAt;
  }

  hasExited(now: UnixNanos): boolean {
    const exitTime = this.exitTime;
    return exitTime !== undefined && now >= exitTime;
  }

  lineRecord(index: number): LineRecord {
    const { stream, bytes } = this.lineAt(index);
    return {
      type: 'line',
      // A TTY has one output stream; Docker reports it as stdout.
      stream: this.tty ? 'stdout' : stream,
      time: this.timeOf(index),
      line: bytes,
      cursor: this.cursorOf(index),
    };
  }

  info(now: UnixNanos): ContainerInfo {
    return {
      id: this.id,
      names: [this.name],
      image: this.image,
      state: this.hasExited(now) ? 'exited' : 'running',
      tty: this.tty,
      createdAt: formatTimestamp(this.createdAt),
      labels: { ...this.labels },
    };
  }
}

function checkSpec(spec: MockContainerSpec): void {
  validateContainerRef(spec.name);
  if (spec.id !== undefined && !FULL_ID.test(spec.id)) {
    throw new InvalidArgumentError('id', `mock container id ${JSON.stringify(spec.id)} is not 64 lowercase hex digits`);
  }
  const { lineCount, intervalMs, historyLines = 0, exitCode } = spec;
  if (!(lineCount === Infinity || (Number.isSafeInteger(lineCount) && lineCount >= 0))) {
    throw new InvalidArgumentError('lineCount', `lineCount must be a whole number >= 0 or Infinity, not ${lineCount}`);
  }
  if (!(Number.isFinite(intervalMs) && intervalMs >= 0)) {
    throw new InvalidArgumentError('intervalMs', `intervalMs must be a finite number >= 0, not ${intervalMs}`);
  }
  if (lineCount === Infinity && intervalMs === 0) {
    throw new InvalidArgumentError('intervalMs', 'a container writing forever needs intervalMs > 0');
  }
  if (!(Number.isSafeInteger(historyLines) && historyLines >= 0)) {
    throw new InvalidArgumentError('historyLines', `historyLines must be a whole number >= 0, not ${historyLines}`);
  }
  if (exitCode !== undefined) {
    if (!Number.isInteger(exitCode)) {
      throw new InvalidArgumentError('exitCode', `exitCode must be an integer, not ${exitCode}`);
    }
    if (lineCount === Infinity) {
      throw new InvalidArgumentError('exitCode', 'a container writing forever never exits: give it a finite lineCount');
    }
  }
}
