import type { LogRecord } from '@enginegate/plugin-api';
import type { Member } from './member.js';

/** What one member's live source did: a batch, its end, or a failure. */
export type Arrival =
  | { member: Member; kind: 'batch'; records: LogRecord[] }
  | { member: Member; kind: 'end' }
  | { member: Member; kind: 'error'; error: unknown };

interface Live {
  member: Member;
  iterator: AsyncIterator<LogRecord[]>;
}

/**
 * Merges live member sources in the order their batches arrive; members are added at any time
 * (a container that joins) and each is pulled again only after its last batch was handed on
 * and the consumer asked for more: at most one batch per member waits here. `next()` resolves
 * when some member has something; `close()` releases every source.
 */
export class ArrivalMerge {
  private readonly live = new Map<Member, Live>();
  private readonly ready: Arrival[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private poked = false;
  /** The member whose batch `next()` returned last: in use until the consumer calls `next()` again. */
  private handedOver: Live | undefined;

  get size(): number {
    return this.live.size;
  }

  has(member: Member): boolean {
    return this.live.has(member);
  }

  add(member: Member, records: AsyncIterable<LogRecord[]>): void {
    if (this.closed) return;
    const live = { member, iterator: records[Symbol.asyncIterator]() };
    this.live.set(member, live);
    this.pull(live);
  }

  /** Stops reading one member (it was removed or left); its source is released. */
  remove(member: Member): void {
    const live = this.live.get(member);
    if (live === undefined) return;
    this.live.delete(member);
    void Promise.resolve(live.iterator.return?.()).catch(() => undefined);
  }

  /**
   * The next arrival; null when `poke()` was called meanwhile; undefined once closed. Waits
   * while nothing has arrived (also with no members).
   */
  async next(): Promise<Arrival | null | undefined> {
    // The consumer is done with the batch handed on last: its member may read again.
    const handedOver = this.handedOver;
    this.handedOver = undefined;
    if (handedOver !== undefined && this.live.get(handedOver.member) === handedOver) this.pull(handedOver);
    for (;;) {
      if (this.closed) return undefined;
      if (this.poked) {
        this.poked = false;
        return null;
      }
      const arrival = this.ready.shift();
      if (arrival !== undefined) {
        const live = this.live.get(arrival.member);
        if (live === undefined) continue; // removed meanwhile
        if (arrival.kind === 'batch') this.handedOver = live;
        else this.live.delete(arrival.member);
        return arrival;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Makes a waiting (or the next) `next()` return null: the consumer has something else to look at. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const member of [...this.live.keys()]) this.remove(member);
    this.wake?.();
  }

  private pull(live: Live): void {
    live.iterator.next().then(
      (result) =>
        this.arrive(
          live,
          result.done
            ? { member: live.member, kind: 'end' }
            : { member: live.member, kind: 'batch', records: result.value },
        ),
      (error: unknown) => this.arrive(live, { member: live.member, kind: 'error', error }),
    );
  }

  private arrive(live: Live, arrival: Arrival): void {
    if (this.closed || this.live.get(live.member) !== live) return;
    this.ready.push(arrival);
    this.wake?.();
  }
}
