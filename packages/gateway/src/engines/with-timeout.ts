/** An engine call (start, stop, health) that took longer than its limit. */
export class TimeoutError extends Error {}

/** Races `promise` against a timer that is always cleared (no timer outlives the race). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
    // A start or health check still pending at shutdown must not keep the process alive.
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
