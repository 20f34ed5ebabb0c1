import type { LogRecord, UnixNanos } from '@enginegate/plugin-api';
import type { Member } from './member.js';

/** A record of one member's source. */
export interface MemberRecord {
  member: Member;
  record: LogRecord;
}

/** One member's history: a source that ends (`follow=false`). */
export interface MemberSource {
  member: Member;
  records: AsyncIterable<LogRecord[]>;
}

/** At most this many records in one merged batch, so that a batch stays one socket write. */
const MAX_BATCH = 1024;

class Head {
  batch: readonly LogRecord[] = [];
  position = 0;
  done = false;
  /** Sort key of records without a time: the time of the member's last record before them. */
  lastTime: UnixNanos = -1n;
  readonly iterator: AsyncIterator<LogRecord[]>;

  constructor(readonly source: MemberSource) {
    this.iterator = source.records[Symbol.asyncIterator]();
  }

  get exhausted(): boolean {
    return this.position >= this.batch.length;
  }

  /** Pulls until a record is there or the source ended (a source may yield empty batches). */
  async refill(): Promise<void> {
    while (!this.done && this.exhausted) {
      const result = await this.iterator.next();
      if (result.done) this.done = true;
      else {
        this.batch = result.value;
        this.position = 0;
      }
    }
  }

  headTime(): UnixNanos {
    const record = this.batch[this.position]!;
    return record.type === 'line' && record.time !== null ? record.time : this.lastTime;
  }

  take(): LogRecord {
    const record = this.batch[this.position++]!;
    if (record.type === 'line' && record.time !== null) this.lastTime = record.time;
    return record;
  }
}

/** The head that goes next: the earliest time, ties by member index (a stable container order). */
function earliest(heads: readonly Head[]): Head | undefined {
  let best: Head | undefined;
  let bestTime = 0n;
  for (const head of heads) {
    if (head.done && head.exhausted) continue;
    const time = head.headTime();
    if (
      best === undefined ||
      time < bestTime ||
      (time === bestTime && head.source.member.index < best.source.member.index)
    ) {
      best = head;
      bestTime = time;
    }
  }
  return best;
}

/**
 * A k-way merge of the members' histories in time order (ties by member index; each member's
 * own order is kept). Each source is pulled only when its last batch was handed on and the
 * consumer asked for more, so memory stays at one batch per member, however long the history.
 * A batch ends where a member's batch runs out: its records are views of that member's read
 * buffer, valid until it is pulled again, so they leave before it is.
 */
export async function* mergeInTimeOrder(sources: readonly MemberSource[]): AsyncGenerator<MemberRecord[]> {
  const heads = sources.map((source) => new Head(source));
  try {
    await Promise.all(heads.map((head) => head.refill()));
    for (;;) {
      const out: MemberRecord[] = [];
      let drained: Head | undefined;
      while (out.length < MAX_BATCH) {
        const head = earliest(heads);
        if (head === undefined) break;
        out.push({ member: head.source.member, record: head.take() });
        if (head.exhausted) {
          drained = head;
          break;
        }
      }
      if (out.length > 0) yield out;
      if (drained === undefined && earliest(heads) === undefined) return;
      await drained?.refill();
    }
  } finally {
    await Promise.all(heads.filter((head) => !head.done).map((head) => Promise.resolve(head.iterator.return?.())));
  }
}
