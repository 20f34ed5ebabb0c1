import {
  decodeCursor,
  errorText,
  hasErrorCode,
  nowNanos,
  type ContainerEvent,
  type ContainerInfo,
  type Engine,
  type LogOptions,
  type LogRecord,
  type UnixNanos,
} from '@enginegate/plugin-api';
import { ArrivalMerge, type Arrival } from './arrival-merge.js';
import { MAX_MEMBERS, memberKey, type Member } from './member.js';
import { containerName } from './member-selection.js';
import { FROM_START, liveSince, MergedPositions, NOTHING_YET, type MergedCursor } from './merged-cursor.js';
import type { StreamRecord } from './merged-record.js';
import { mergeInTimeOrder, type MemberRecord, type MemberSource } from './time-order-merge.js';

export interface MergedLogSourceInit {
  engine: Pick<Engine, 'logs'>;
  /** The members at the start, in their stable order (their indexes). */
  members: readonly ContainerInfo[];
  /** Names of matching containers left out by the member cap (a `gap` record says so). */
  leftOut: readonly string[];
  /** The request's options; `after` is not used (a merged stream resumes from `resume`). */
  options: LogOptions;
  resume?: MergedCursor;
  /** A `container=` list: the stream ends once every member has left. */
  endsWhenAllLeft: boolean;
  /**
   * The engine's container events, subscribed to before `members` was listed (follow only): a
   * matching container that starts joins.
   */
  events?: AsyncIterable<ContainerEvent[]>;
  /** Whether a container that starts belongs to the stream (a listed one, or one the selector matches). */
  matches: (info: ContainerInfo) => boolean;
  signal: AbortSignal;
}

function later(a: UnixNanos | undefined, b: UnixNanos): UnixNanos {
  return a !== undefined && a > b ? a : b;
}

/**
 * Many containers as one stream of records: their histories merged in time order, then their
 * live lines as they arrive; joins and leaves as records; every line's cursor the whole
 * stream's (a MergedCursor). `open()` opens every member's history before it resolves, so that
 * a listed container whose logs cannot be read is an HTTP status before any upgrade.
 */
export class MergedLogSource implements AsyncIterable<StreamRecord[]> {
  private readonly members = new Map<string, Member>();
  private readonly positions: MergedPositions;
  /** Before any history was read: members without a line yet follow from here. */
  private readonly openedAt = nowNanos();
  private histories: MemberSource[] = [];
  private readonly exitCodes = new Map<Member, number>();
  /** Records of membership changes, waiting for the follow loop to send them. */
  private readonly control: StreamRecord[] = [];
  /** Members that started again while their old logs were still being read: they rejoin on leaving. */
  private readonly restarted = new Set<Member>();
  /** Containers left out by the cap, said once each. */
  private readonly refused = new Set<string>();
  private joinFailure: Error | undefined;

  private constructor(private readonly init: MergedLogSourceInit) {
    this.positions = new MergedPositions(init.resume);
  }

  static async open(init: MergedLogSourceInit): Promise<MergedLogSource> {
    const source = new MergedLogSource(init);
    for (const info of init.members) source.positions.enter(source.addMember(info).key, NOTHING_YET);
    source.histories = await Promise.all(
      [...source.members.values()].map(async (member) => ({
        member,
        records: await init.engine.logs.open(
          { ref: member.id, ...(member.namespace !== undefined && { namespace: member.namespace }) },
          source.historyOptions(member),
          init.signal,
        ),
      })),
    );
    return source;
  }

  get size(): number {
    return this.members.size;
  }

  private addMember(info: ContainerInfo): Member {
    const known = this.members.get(info.id);
    if (known) return known;
    const member: Member = {
      index: this.members.size,
      id: info.id,
      name: containerName(info),
      key: memberKey(info.id),
      ...(info.namespace !== undefined && { namespace: info.namespace }),
    };
    this.members.set(info.id, member);
    return member;
  }

  /**
   * Where a member starts: right after its position; else, resuming, at the cursor's time if
   * the cursor knew it as a member that had sent nothing, from its start if it joined later.
   */
  private startFrom(member: Member, fallbackSince: UnixNanos | undefined): Partial<LogOptions> {
    const position = this.positions.of(member.key);
    if (position !== undefined) return { after: decodeCursor(position) };
    const { since } = this.init.options;
    const { resume } = this.init;
    const resumed = resume?.positions.get(member.key);
    if (resumed === NOTHING_YET) return { since: later(since, resume!.time) };
    const liveTime = liveSince(resumed);
    if (liveTime !== undefined) return { since: later(since, liveTime) };
    const from = fallbackSince === undefined ? since : later(since, fallbackSince);
    return from === undefined ? {} : { since: from };
  }

  private historyOptions(member: Member): LogOptions {
    const { stdout, stderr, until, tail } = this.init.options;
    const start = this.startFrom(member, undefined);
    const withTail = start.after === undefined && this.init.resume === undefined && tail !== undefined;
    return {
      follow: false,
      stdout,
      stderr,
      ...(until !== undefined && { until }),
      ...(withTail && { tail }),
      ...start,
    };
  }

  private liveOptions(member: Member, fallbackSince: UnixNanos | undefined): LogOptions {
    const { stdout, stderr, until } = this.init.options;
    return {
      follow: true,
      stdout,
      stderr,
      ...(until !== undefined && { until }),
      ...this.startFrom(member, fallbackSince),
    };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StreamRecord[]> {
    const opening: StreamRecord[] = [...this.members.values()].map((member) => ({ type: 'join', member }));
    if (this.init.leftOut.length > 0) opening.push(this.capGap(this.init.leftOut));
    yield opening;
    for await (const batch of mergeInTimeOrder(this.histories)) yield batch.map((r) => this.stamp(r));
    this.histories = [];
    if (!this.init.options.follow) return;
    yield* this.follow();
  }

  private capGap(names: readonly string[]): StreamRecord {
    const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? `, and ${names.length - 10} more` : '');
    return { type: 'gap', reason: `more than 256 containers match: left out ${shown}` };
  }

  private stamp({ member, record }: MemberRecord): StreamRecord {
    switch (record.type) {
      case 'line':
        return { ...record, member, cursor: this.positions.advance(member.key, record.cursor, record.time) };
      case 'exit':
        this.exitCodes.set(member, record.exitCode);
        return { ...record, member };
      case 'gap':
        return { type: 'gap', reason: `${member.name}: ${record.reason}` };
      case 'error':
        return { type: 'gap', reason: `${member.name}: ${record.code}: ${record.message}` };
    }
  }

  private async *follow(): AsyncGenerator<StreamRecord[]> {
    const merge = new ArrivalMerge();
    try {
      const { control } = this;
      await Promise.all([...this.members.values()].map((m) => this.startLive(merge, m, this.openedAt, control)));
      this.positions.liveFrom(
        [...this.members.values()].map((m) => m.key),
        this.openedAt,
      );
      if (this.init.events !== undefined) void this.watchJoins(merge, this.init.events);
      for (;;) {
        if (control.length > 0) yield control.splice(0);
        if (this.joinFailure !== undefined) throw this.joinFailure;
        if (this.init.endsWhenAllLeft && merge.size === 0) return;
        const arrival = await merge.next();
        if (arrival === undefined) return;
        if (arrival === null) continue;
        const records = await this.arrived(merge, arrival);
        if (records.length > 0) yield records;
      }
    } finally {
      merge.close();
    }
  }

  /** Containers that start and match join (or rejoin); an events failure ends the stream. */
  private async watchJoins(merge: ArrivalMerge, events: AsyncIterable<ContainerEvent[]>): Promise<void> {
    try {
      for await (const batch of events) {
        for (const event of batch) {
          if (event.action === 'start' && this.init.matches(event.container)) await this.join(merge, event.container);
        }
        if (this.init.signal.aborted) return;
      }
    } catch (err) {
      if (this.init.signal.aborted) return;
      this.joinFailure = err instanceof Error ? err : new Error(errorText(err));
      merge.poke();
    }
  }

  private async join(merge: ArrivalMerge, info: ContainerInfo): Promise<void> {
    const known = this.members.get(info.id);
    if (known !== undefined && merge.has(known)) {
      this.restarted.add(known);
      return;
    }
    if (known === undefined && this.members.size >= MAX_MEMBERS) {
      if (!this.refused.has(info.id)) this.control.push(this.capGap([containerName(info)]));
      this.refused.add(info.id);
      return merge.poke();
    }
    const member = this.addMember(info);
    this.positions.enter(member.key, FROM_START);
    // The join goes out before any of its lines: the follow loop looks at `control` first.
    this.control.push({ type: 'join', member });
    merge.poke();
    await this.startLive(merge, member, undefined, this.control);
    if (this.control.length > 0) merge.poke();
  }

  /** Opens a member's live source into `merge`; a member that cannot be followed leaves. */
  private async startLive(
    merge: ArrivalMerge,
    member: Member,
    fallbackSince: UnixNanos | undefined,
    out: StreamRecord[],
  ): Promise<void> {
    try {
      const ref = { ref: member.id, ...(member.namespace !== undefined && { namespace: member.namespace }) };
      merge.add(
        member,
        await this.init.engine.logs.open(ref, this.liveOptions(member, fallbackSince), this.init.signal),
      );
    } catch (err) {
      if (hasErrorCode(err, 'ENGINE_UNAVAILABLE')) throw err;
      if (!hasErrorCode(err, 'CONTAINER_NOT_FOUND'))
        out.push({ type: 'gap', reason: `${member.name}: ${errorText(err)}` });
      out.push({ type: 'leave', member });
    }
  }

  private async arrived(merge: ArrivalMerge, arrival: Arrival): Promise<StreamRecord[]> {
    const { member } = arrival;
    switch (arrival.kind) {
      case 'batch':
        return arrival.records.map((record: LogRecord) => this.stamp({ member, record }));
      case 'end': {
        const exitCode = this.exitCodes.get(member);
        this.exitCodes.delete(member);
        const out: StreamRecord[] = [{ type: 'leave', member, ...(exitCode !== undefined && { exitCode }) }];
        if (this.restarted.delete(member)) {
          out.push({ type: 'join', member });
          await this.startLive(merge, member, undefined, out);
        }
        return out;
      }
      case 'error':
        if (hasErrorCode(arrival.error, 'ENGINE_UNAVAILABLE')) throw arrival.error;
        merge.remove(member);
        return [
          { type: 'gap', reason: `${member.name}: ${errorText(arrival.error)}` },
          { type: 'leave', member },
        ];
    }
  }
}
