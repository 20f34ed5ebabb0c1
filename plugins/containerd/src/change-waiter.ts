import { watch, type FSWatcher } from 'node:fs';

/**
 * Sleeps until something may have changed: a file-system event in the watched directory, a
 * `notify()` (task exit, abort), or the poll interval — fs.watch alone misses events on some
 * file systems and across renames, so the poll is the safety net, not the main path.
 */
export class ChangeWaiter {
  private watcher: FSWatcher | null = null;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pending = false;
  private closed = false;

  constructor(private readonly pollIntervalMs: number) {}

  /** Watches `dir` (its files' writes, renames and creations); silently polls only if it cannot. */
  watchDirectory(dir: string): void {
    if (this.closed || this.watcher) return;
    try {
      this.watcher = watch(dir, { persistent: false }, () => this.notify());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      this.watcher = null;
    }
  }

  notify(): void {
    if (this.wake) {
      const wake = this.wake;
      this.wake = null;
      wake();
    } else {
      this.pending = true;
    }
  }

  /** Resolves at the next change, or after `ms` (default: the poll interval). */
  wait(ms = this.pollIntervalMs): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.timer = setTimeout(() => this.notify(), ms);
      this.wake = () => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        resolve();
      };
    });
  }

  /** Releases the watcher and timer; a pending `wait()` resolves at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    this.notify();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
