import { decodeCursor, type ContainerRef, type LogRecord, type LogSource } from '@enginegate/plugin-api';

/** What a hub hands its followers; the records are copies, safe to keep. */
export interface LiveTailSubscriber {
  push(records: readonly LogRecord[]): void;
  /** The engine stream ended (`error` undefined) or failed. */
  end(error?: unknown): void;
}

export interface LiveTailSubscription {
  /** The cursor of the newest line the hub had delivered before this subscription, if any. */
  readonly anchor: string | undefined;
  unsubscribe(): void;
}

/** A record of the engine stream, with its line copied out of the engine's read buffer. */
function kept(record: LogRecord): LogRecord {
  return record.type === 'line' ? { ...record, line: Buffer.from(record.line) } : record;
}

/** The cursor of the container's newest line in this selection, or undefined when it has none. */
async function newestLine(
  source: LogSource,
  ref: ContainerRef,
  selection: { stdout: boolean; stderr: boolean },
): Promise<string | undefined> {
  let newest: string | undefined;
  const abort = new AbortController();
  try {
    for await (const batch of await source.open(ref, { follow: false, tail: 1, ...selection }, abort.signal)) {
      for (const record of batch) if (record.type === 'line') newest = record.cursor;
    }
  } finally {
    abort.abort();
  }
  return newest;
}

/**
 * One engine follow stream of one container (and stdout/stderr selection), shared by every
 * follower that has caught up with the live end. The engine is pulled as fast as it gives, not
 * as fast as the slowest follower: each follower queues what it has not sent yet and leaves the
 * hub when its queue passes its high-water mark (see SharedFollow).
 *
 * The stream starts right behind the container's newest line (read first with `tail=1`, then
 * followed with `after=`): that line is the anchor a follower's own history is matched against,
 * so that it joins exactly behind what it sent. An empty log is followed from its start.
 */
export class LiveTailHub {
  private readonly abort = new AbortController();
  private readonly subscribers = new Set<LiveTailSubscriber>();
  private finished = false;

  private constructor(
    private readonly onClosed: (hub: LiveTailHub) => void,
    private newest: string | undefined,
  ) {}

  static async open(
    source: LogSource,
    ref: ContainerRef,
    selection: { stdout: boolean; stderr: boolean },
    onClosed: (hub: LiveTailHub) => void,
  ): Promise<LiveTailHub> {
    const newest = await newestLine(source, ref, selection);
    const hub = new LiveTailHub(onClosed, newest);
    const from = newest === undefined ? {} : { after: decodeCursor(newest) };
    const records = await source.open(ref, { follow: true, ...selection, ...from }, hub.abort.signal);
    void hub.pump(records);
    return hub;
  }

  /** Number of followers now. */
  get size(): number {
    return this.subscribers.size;
  }

  /** Null once the engine stream has ended: the caller opens a new hub. */
  subscribe(subscriber: LiveTailSubscriber): LiveTailSubscription | null {
    if (this.finished) return null;
    this.subscribers.add(subscriber);
    return {
      anchor: this.newest,
      unsubscribe: () => {
        if (!this.subscribers.delete(subscriber) || this.subscribers.size > 0) return;
        // The last follower left: release the engine stream.
        this.close();
      },
    };
  }

  private async pump(records: AsyncIterable<LogRecord[]>): Promise<void> {
    let failure: unknown;
    try {
      for await (const batch of records) {
        if (this.finished) return;
        const copies = batch.map(kept);
        for (const record of copies) if (record.type === 'line') this.newest = record.cursor;
        for (const subscriber of this.subscribers) subscriber.push(copies);
      }
    } catch (err) {
      failure = err;
    }
    if (this.finished) return;
    const subscribers = [...this.subscribers];
    this.close();
    for (const subscriber of subscribers) subscriber.end(failure);
  }

  private close(): void {
    if (this.finished) return;
    this.finished = true;
    this.subscribers.clear();
    this.abort.abort();
    this.onClosed(this);
  }
}
