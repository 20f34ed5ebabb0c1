/** Failed token checks from one client address allowed in a window before answers slow down. */
const FREE_FAILURES = 10;
const WINDOW_MS = 60_000;
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2000;
/** Addresses remembered at most; the oldest is forgotten first. */
const MAX_CLIENTS = 4096;

/**
 * Slows down repeated failed authentication from one client address: after 10 wrong tokens
 * within a minute each further 401 waits 100 ms, doubling up to 2 s. A success is never delayed.
 */
export class AuthFailures {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records a failure of `client`; resolves when its 401 may be answered. */
  async penalise(client: string): Promise<void> {
    const delay = this.record(client);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay).unref());
  }

  /** Records a failure and returns how long its answer waits (ms). */
  record(client: string): number {
    const now = this.now();
    let entry = this.failures.get(client);
    if (entry === undefined || now - entry.since > WINDOW_MS) entry = { count: 0, since: now };
    entry.count += 1;
    this.failures.delete(client);
    this.failures.set(client, entry);
    if (this.failures.size > MAX_CLIENTS) this.failures.delete(this.failures.keys().next().value!);
    const over = entry.count - FREE_FAILURES;
    return over <= 0 ? 0 : Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(over - 1, 16));
  }
}
