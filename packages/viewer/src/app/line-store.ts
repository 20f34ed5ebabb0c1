import type { LineMatcher } from './filter.js';

export type MarkerKind = 'reconnect' | 'lost' | 'exit' | 'join' | 'leave' | 'gap' | 'error' | 'end';

/** One row of the log: a line the container wrote, or a marker the viewer adds (exit, reconnect…). */
export interface LogEntry {
  /** Increasing by one per entry of this store. */
  readonly seq: number;
  readonly kind: 'line' | 'marker';
  readonly stream: 'stdout' | 'stderr' | null;
  readonly marker: MarkerKind | null;
  /** The line as written, ANSI escapes included (or the marker's words). */
  readonly text: string;
  /** `text` without ANSI escapes: what the filter matches and a download holds. */
  readonly plain: string;
  /** The engine's time, Docker's fixed-width RFC3339Nano form, or null. */
  readonly time: string | null;
  /** The container's index in the session's member table (merged streams), or -1. */
  readonly member: number;
}

export type NewEntry = Omit<LogEntry, 'seq'>;

/** Compacting copies the kept part; doing it only past this much waste (and a share of the cap) keeps appends O(1) amortised. */
const COMPACT_AFTER = 1024;

/**
 * The lines a session keeps: at most `cap`, the oldest dropped first (and counted), plus the
 * subset that passes the filter. Appends and drops are O(1) amortised; setting a filter is one
 * pass. Entries are addressed by their position among the visible ones (what the list renders).
 */
export class LineStore {
  /** Dropped slots (before `start`) are emptied at once, so that their entries can be collected. */
  private entries: Array<LogEntry | undefined> = [];
  private start = 0;
  private nextSeq = 0;
  private droppedCount = 0;
  private matcher: LineMatcher | null = null;
  /** seqs of the entries that pass the filter, oldest first, from `matchStart`. */
  private matches: number[] = [];
  private matchStart = 0;
  private shifted = 0;

  constructor(private capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity > 0)) throw new RangeError(`cap must be > 0, not ${capacity}`);
  }

  get cap(): number {
    return this.capacity;
  }

  /** Entries kept. */
  get size(): number {
    return this.entries.length - this.start;
  }

  /** Entries dropped since the last clear(), because the store was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * How many visible entries have left the front, ever (dropped, or dropped matches while filtered):
   * a list that stays put while old rows go moves up by the difference.
   */
  get shiftedOut(): number {
    return this.shifted;
  }

  get filter(): LineMatcher | null {
    return this.matcher;
  }

  /** What the list shows: every kept entry, or those that pass the filter. */
  get visibleCount(): number {
    return this.matcher === null ? this.size : this.matches.length - this.matchStart;
  }

  visibleAt(index: number): LogEntry | undefined {
    if (index < 0 || index >= this.visibleCount) return undefined;
    if (this.matcher === null) return this.entries[this.start + index];
    return this.bySeq(this.matches[this.matchStart + index]!);
  }

  /** Every visible entry, oldest first. */
  *visible(): IterableIterator<LogEntry> {
    for (let i = 0, n = this.visibleCount; i < n; i++) yield this.visibleAt(i)!;
  }

  append(items: readonly NewEntry[]): void {
    for (const item of items) {
      const entry: LogEntry = { ...item, seq: this.nextSeq++ };
      this.entries.push(entry);
      if (this.matcher !== null && this.matcher.test(entry.plain)) this.matches.push(entry.seq);
    }
    this.dropBeyond(this.capacity);
  }

  setFilter(matcher: LineMatcher | null): void {
    this.matcher = matcher;
    this.matches = [];
    this.matchStart = 0;
    if (matcher === null) return;
    for (let i = this.start; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      if (matcher.test(entry.plain)) this.matches.push(entry.seq);
    }
  }

  setCap(capacity: number): void {
    if (!(Number.isSafeInteger(capacity) && capacity > 0)) throw new RangeError(`cap must be > 0, not ${capacity}`);
    this.capacity = capacity;
    this.dropBeyond(capacity);
  }

  clear(): void {
    this.entries = [];
    this.start = 0;
    this.droppedCount = 0;
    this.shifted = 0;
    this.matches = [];
    this.matchStart = 0;
  }

  private bySeq(seq: number): LogEntry | undefined {
    const first = this.entries[this.start];
    return first === undefined ? undefined : this.entries[this.start + (seq - first.seq)];
  }

  private dropBeyond(capacity: number): void {
    const excess = this.size - capacity;
    if (excess <= 0) return;
    for (let i = this.start; i < this.start + excess; i++) this.entries[i] = undefined;
    this.start += excess;
    this.droppedCount += excess;
    if (this.matcher === null) this.shifted += excess;
    const firstKept = this.entries[this.start]!.seq;
    while (this.matchStart < this.matches.length && this.matches[this.matchStart]! < firstKept) {
      this.matchStart++;
      if (this.matcher !== null) this.shifted++;
    }
    const waste = Math.max(COMPACT_AFTER, capacity / 2);
    if (this.start > waste) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
    if (this.matchStart > waste) {
      this.matches = this.matches.slice(this.matchStart);
      this.matchStart = 0;
    }
  }
}
