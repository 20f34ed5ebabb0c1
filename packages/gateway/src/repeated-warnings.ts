import type { FastifyBaseLogger } from 'fastify';

/** One warning per cause per window; the next one after it says how many were left out. */
const WINDOW_MS = 10_000;
/** Causes remembered at most; the oldest is forgotten first. */
const MAX_CAUSES = 1024;

/**
 * Rate-limits warnings about the same cause (an engine lost under 1,000 streams is one warning,
 * not 1,000): the first of a cause is logged, the rest within 10 s are counted, and the next one
 * logged carries `suppressed`, the number left out.
 */
export class RepeatedWarnings {
  private readonly causes = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  warn(logger: FastifyBaseLogger, cause: string, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    const entry = this.causes.get(cause);
    if (entry !== undefined && now - entry.loggedAt < WINDOW_MS) {
      entry.suppressed += 1;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.causes.delete(cause);
    this.causes.set(cause, { loggedAt: now, suppressed: 0 });
    if (this.causes.size > MAX_CAUSES) this.causes.delete(this.causes.keys().next().value!);
    logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
