import {
  TimeCursorSequencer,
  type LineRecord,
  type LogOptions,
  type StreamName,
  type TimeCursor,
} from '@enginegate/plugin-api';
import type { ParsedLineSink } from './docker-log-parsers.js';
import { STREAM_SKEW_NS } from './docker-logs-query.js';

/**
 * The lines of one Docker response as records. Timed, each is numbered (its cursor) and those
 * up to and including `skipThrough` are dropped (`after=`, where a tail starts, a resume: sent
 * before, or not wanted); untimed (a `linesOnly` read) they carry neither time nor cursor.
 * Either way only the selected streams, and nothing after `until`, are kept.
 */
export class DockerLineRecords {
  /** The last line numbered, kept or not: where a resume continues. */
  position: TimeCursor | undefined;
  readonly sink: ParsedLineSink;
  private batch: LineRecord[] = [];
  private readonly sequencer = new TimeCursorSequencer();
  private passed: boolean;

  constructor(
    private readonly options: LogOptions,
    private readonly skipThrough: TimeCursor | undefined,
    timed: boolean,
  ) {
    this.position = skipThrough;
    this.passed = skipThrough === undefined;
    this.sink = timed ? this.timed : this.untimed;
  }

  get pending(): number {
    return this.batch.length;
  }

  /** The records made since the last take. */
  take(): LineRecord[] {
    const full = this.batch;
    this.batch = [];
    return full;
  }

  private readonly untimed: ParsedLineSink = (stream, _time, line, partial) => {
    if (!this.wanted(stream)) return;
    this.batch.push(
      partial
        ? { type: 'line', stream, time: null, line, cursor: '', partial }
        : { type: 'line', stream, time: null, line, cursor: '' },
    );
  };

  private readonly timed: ParsedLineSink = (stream, time, line, partial) => {
    const { seq, cursor } = this.sequencer.next(time);
    this.position = { kind: 'time', time, seq };
    if (!this.passed) {
      const start = this.skipThrough!;
      if (time === start.time && seq === start.seq) {
        this.passed = true; // the cursor's own record: the next one is the first to send
        return;
      }
      // Before the cursor's record. Should that record be gone (never seen), a record stamped
      // more than the skew after it cannot have come before it: send from there.
      if (time <= start.time + STREAM_SKEW_NS) return;
      this.passed = true;
    }
    const { until } = this.options;
    if (!this.wanted(stream) || (until !== undefined && time > until)) return;
    this.batch.push(
      partial ? { type: 'line', stream, time, line, cursor, partial } : { type: 'line', stream, time, line, cursor },
    );
  };

  private wanted(stream: StreamName): boolean {
    return stream === 'stdout' ? this.options.stdout : this.options.stderr;
  }
}
