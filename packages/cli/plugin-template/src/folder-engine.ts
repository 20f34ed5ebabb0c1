import { createHash } from 'node:crypto';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AmbiguousContainerError,
  ContainerNotFoundError,
  EngineUnavailableError,
  InvalidArgumentError,
  OpenStreams,
  errorText,
  looksLikeIdPrefix,
  validateContainerRef,
  type ContainerInfo,
  type ContainerRef,
  type Engine,
  type EngineHealth,
  type LogOptions,
  type LogRecord,
  type LogSource,
  type PluginLogger,
} from '@enginegate/plugin-api';
import { FileChanges, readFileLog, startOffset } from './file-log.js';

/** One container: a file of the folder, named as the file is. */
export interface FileContainer {
  /** The SHA-256 of the name in hex, so that ID prefixes resolve as Docker's do. */
  id: string;
  name: string;
  path: string;
  createdAt: string;
}

/** The engine: start/stop/health, the folder's files as containers, and their logs. */
export class FolderEngine implements Engine {
  readonly logs: LogSource = { open: (ref, options, signal) => this.open(ref, options, signal) };
  private running = false;
  /** Every open log stream, so that stop() ends them all. */
  private readonly streams = new OpenStreams();

  constructor(
    readonly name: string,
    /** The folder whose files are the containers. */
    readonly dir: string,
    private readonly logger: PluginLogger,
  ) {}

  /** Log streams open now (the conformance suite checks a client leaving releases its one). */
  get openStreams(): number {
    return this.streams.size;
  }

  async start(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (err) {
      throw new EngineUnavailableError(`cannot use the folder ${this.dir}: ${errorText(err)}`, { cause: err });
    }
    this.running = true;
    this.logger.info({ dir: this.dir }, `${this.name}: serving the files of ${this.dir}`);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.streams.abortAll(new EngineUnavailableError(`the ${this.name} engine stopped`));
  }

  async health(): Promise<EngineHealth> {
    try {
      const info = await stat(this.dir);
      return info.isDirectory() ? { ok: true } : { ok: false, message: `${this.dir} is not a folder` };
    } catch (err) {
      return { ok: false, message: `cannot read the folder ${this.dir}: ${errorText(err)}` };
    }
  }

  async containers(): Promise<ContainerInfo[]> {
    return (await this.files()).map((file) => ({
      id: file.id,
      names: [file.name],
      image: 'file',
      // A file can always grow: it never exits.
      state: 'running',
      tty: false,
      createdAt: file.createdAt,
      labels: {},
    }));
  }

  /**
   * Resolves the container first, so that a bad reference is a 404/409 (and a foreign cursor a
   * 400) before the gateway upgrades to a WebSocket; then hands back the file's records.
   */
  private async open(ref: ContainerRef, options: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogRecord[]>> {
    const container = await this.resolve(ref.ref);
    if (options.after !== undefined && options.after.kind !== 'byte') {
      // A time cursor comes from another engine (after a switch): this one cannot place it.
      throw new InvalidArgumentError('after', `the ${this.name} engine's cursors are byte offsets (b<offset>)`);
    }
    const file = await open(container.path, 'r').catch((err: unknown) => {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? new ContainerNotFoundError(ref.ref)
        : new EngineUnavailableError(`cannot read ${container.path}: ${errorText(err)}`, { cause: err });
    });
    const stream = this.streams.open(signal);
    try {
      // Watched before the first read, so that no line written after it is missed.
      const changes = options.follow ? new FileChanges(container.path, file, stream.signal) : undefined;
      const start = await startOffset(file, options);
      return readFileLog({ file, start, options, stream, changes });
    } catch (err) {
      stream.release();
      await file.close();
      throw err;
    }
  }

  /** A full ID, a name, then a unique ID prefix, as Docker resolves them. */
  private async resolve(ref: string): Promise<FileContainer> {
    const files = await this.files();
    const exact = files.find((file) => file.id === ref || file.name === ref);
    if (exact) return exact;
    const byPrefix = looksLikeIdPrefix(ref) ? files.filter((file) => file.id.startsWith(ref)) : [];
    if (byPrefix.length > 1) {
      throw new AmbiguousContainerError(
        ref,
        byPrefix.map((file) => file.id),
      );
    }
    if (byPrefix.length === 1) return byPrefix[0]!;
    throw new ContainerNotFoundError(ref);
  }

  /** The folder's regular files whose names are valid container names. */
  private async files(): Promise<FileContainer[]> {
    if (!this.running) throw new EngineUnavailableError(`the ${this.name} engine is stopped`);
    let names: string[];
    try {
      const entries = await readdir(this.dir, { withFileTypes: true });
      names = entries.filter((entry) => entry.isFile() && isContainerName(entry.name)).map((entry) => entry.name);
    } catch (err) {
      throw new EngineUnavailableError(`cannot read the folder ${this.dir}: ${errorText(err)}`, { cause: err });
    }
    const files = await Promise.all(names.map((name) => this.fileContainer(name)));
    return files.filter((file) => file !== undefined);
  }

  private async fileContainer(name: string): Promise<FileContainer | undefined> {
    const path = join(this.dir, name);
    // Removed since the folder was listed: not a container any more.
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) return undefined;
    const id = createHash('sha256').update(name).digest('hex');
    // Some file systems keep no birth time (0): the last status change is the next best.
    const created = info.birthtimeMs > 0 ? info.birthtime : info.ctime;
    return { id, name, path, createdAt: created.toISOString() };
  }
}

/** Names a client can ask for (`.hidden` or `a b` never can: the gateway refuses them with a 400). */
function isContainerName(name: string): boolean {
  try {
    validateContainerRef(name);
    return true;
  } catch {
    return false;
  }
}
