import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { LogsUnsupportedError, type PluginLogger } from '@enginegate/plugin-api';

export const DEFAULT_LOG_ROOTS = ['/var/lib/nerdctl', '/var/log'];

/**
 * The directories the plugin may read log files from. Paths come from labels, extensions and
 * task URIs that anyone able to create a container controls, so every path is resolved
 * (symlinks included) before it is opened, and a path that lands outside every root is refused.
 */
export class LogRoots {
  private readonly configured: string[];

  constructor(
    roots: readonly string[],
    private readonly logger: PluginLogger,
  ) {
    this.configured = roots.map((r) => resolve(r));
  }

  get roots(): readonly string[] {
    return this.configured;
  }

  /**
   * The real path of `path` when it lies under a root; throws `LogsUnsupportedError` (and logs
   * at warn: someone pointed a container at a file it must not read) otherwise. A file that
   * does not exist yet is checked through its nearest existing ancestor.
   */
  async resolve(path: string, what: string): Promise<string> {
    if (!isAbsolute(path)) throw this.refuse(path, what, 'it is not an absolute path');
    let real: string;
    try {
      real = await realpathOfPossiblyMissing(path);
    } catch (err) {
      throw this.refuse(path, what, `it cannot be resolved (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    const roots = await this.realRoots();
    if (roots.some((root) => isInside(real, root))) return real;
    throw this.refuse(path, what, real === path ? undefined : `it resolves to ${real}`);
  }

  private refuse(path: string, what: string, detail?: string): LogsUnsupportedError {
    this.logger.warn({ path, what, logRoots: this.configured }, 'refused a log path outside the log roots');
    return new LogsUnsupportedError(
      `the ${what} ${path} is outside the log roots (${this.configured.join(', ')})` +
        (detail ? `: ${detail}` : '') +
        '; add its directory with --log-root to serve it',
    );
  }

  /** Resolved on every check (a few syscalls): a root may be created, or re-pointed, at any time. */
  private async realRoots(): Promise<string[]> {
    const list = await Promise.all(this.configured.map((root) => realpath(root).catch(() => undefined)));
    return list.filter((r): r is string => r !== undefined);
  }
}

function isInside(path: string, root: string): boolean {
  if (root === sep) return true;
  return path === root || path.startsWith(root + sep);
}

async function realpathOfPossiblyMissing(path: string): Promise<string> {
  const missing: string[] = [];
  let current = resolve(path);
  for (;;) {
    try {
      const real = await realpath(current);
      return missing.length > 0 ? join(real, ...missing.reverse()) : real;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = dirname(current);
      if (parent === current) return resolve(path);
      missing.push(basename(current));
      current = parent;
    }
  }
}
