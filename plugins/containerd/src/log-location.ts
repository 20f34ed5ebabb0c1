import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InternalError, LogsUnsupportedError, type PluginLogger } from '@enginegate/plugin-api';
import type { ContainerdClient, ContainerdContainer, ContainerdTask } from './containerd-client.js';
import { criFormat, jsonFileFormat, rawFormat, type LogFileFormat } from './log-formats.js';
import type { LogRoots } from './log-roots.js';
import type { RotationScheme } from './log-segments.js';

/** Where a container's logs can be read back, and how. */
export type LogLocation =
  | {
      kind: 'file';
      /** Real path, inside the log roots. */
      path: string;
      format: LogFileFormat;
      rotation: RotationScheme;
      /** The writer closes the file when the task exits (see LogFileStreamOptions). */
      writerClosesAtExit?: boolean;
    }
  | {
      kind: 'journald';
      /** The journal's SYSLOG_IDENTIFIER of the container's entries. */
      identifier: string;
    };

export const CRI_CONTAINER_METADATA = 'io.cri-containerd.container.metadata';
export const CRI_SANDBOX_METADATA = 'io.cri-containerd.sandbox.metadata';

export const NERDCTL_LABEL = {
  stateDir: 'nerdctl/state-dir',
  /** nerdctl ≥ 2.1 keeps the log configuration here; older versions in `<state-dir>/log-config.json`. */
  logConfig: 'nerdctl/log-config',
} as const;

/** The `binary://` logger argument nerdctl passes its data store in. */
const NERDCTL_LOGGING_PARAM = '_NERDCTL_INTERNAL_LOGGING';

/** nerdctl's log drivers that only send: nothing is kept that could be read back. */
const WRITE_ONLY_DRIVERS = new Set(['none', 'fluentd', 'syslog', 'gelf', 'awslogs', 'splunk', 'etwlogs', 'gcplogs']);

/** The CRI plugin's container and sandbox metadata extensions, as far as the log path goes. */
interface CriMetadata {
  Metadata?: {
    LogPath?: unknown;
    SandboxID?: unknown;
    Config?: { log_path?: unknown; log_directory?: unknown };
  };
}

interface NerdctlLogConfig {
  driver?: string;
  opts?: Record<string, string>;
}

/**
 * Finds where a container's output was written, in this order:
 * 1. the CRI plugin's metadata extension (Kubernetes pods): the kubelet's CRI log file;
 * 2. nerdctl's labels (or its `binary://` logger URI): its json-file log, or the journal;
 * 3. the task's stdout URI: a `file://` log as `ctr run --log-uri` writes it.
 * Anything else (FIFOs nobody persists, write-only drivers) is `LogsUnsupportedError`.
 * Every path is checked against the log roots before it is used.
 */
export class LogLocator {
  constructor(
    private readonly client: ContainerdClient,
    private readonly roots: LogRoots,
    private readonly logger: PluginLogger,
  ) {}

  async locate(container: ContainerdContainer, task: ContainerdTask | undefined): Promise<LogLocation> {
    const cri = container.extensions[CRI_CONTAINER_METADATA];
    if (cri) return this.criLog(container, cri.value);

    const stateDir = container.labels[NERDCTL_LABEL.stateDir] ?? nerdctlStateDirFromUri(container, task?.stdout);
    if (stateDir) return this.nerdctlLog(container, stateDir);

    return this.taskUriLog(container, task);
  }

  private async criLog(container: ContainerdContainer, value: Buffer): Promise<LogLocation> {
    const metadata = (parseJson(value) as CriMetadata | undefined)?.Metadata;
    let path: string | undefined = typeof metadata?.LogPath === 'string' ? metadata.LogPath : undefined;
    if (!path) {
      // Older CRI versions keep only the kubelet's relative path; join it with the pod's.
      const relative = metadata?.Config?.log_path;
      const sandboxId = metadata?.SandboxID;
      if (typeof relative === 'string' && relative && typeof sandboxId === 'string') {
        const sandbox = await this.client.getContainer(container.namespace, sandboxId);
        const sandboxMeta = sandbox?.extensions[CRI_SANDBOX_METADATA];
        const dir = sandboxMeta
          ? (parseJson(sandboxMeta.value) as CriMetadata | undefined)?.Metadata?.Config?.log_directory
          : undefined;
        if (typeof dir === 'string' && dir) path = join(dir, relative);
      }
    }
    if (!path) throw new LogsUnsupportedError(`container ${container.id} was created without a log path (CRI)`);
    return { kind: 'file', path: await this.roots.resolve(path, 'CRI log file'), format: criFormat, rotation: 'cri' };
  }

  private async nerdctlLog(container: ContainerdContainer, stateDir: string): Promise<LogLocation> {
    const config = await this.nerdctlLogConfig(container, stateDir);
    const driver = config.driver || 'json-file';
    if (driver === 'json-file') {
      const path = config.opts?.['log-path'] || join(stateDir, `${container.id}-json.log`);
      return {
        kind: 'file',
        path: await this.roots.resolve(path, 'nerdctl json-file log'),
        format: jsonFileFormat,
        rotation: 'numbered',
      };
    }
    if (driver === 'journald') {
      // nerdctl's default tag is the short ID; a custom tag template cannot be re-evaluated here.
      return { kind: 'journald', identifier: container.id.slice(0, 12) };
    }
    if (WRITE_ONLY_DRIVERS.has(driver)) {
      throw new LogsUnsupportedError(
        `container ${container.id} logs through the ${driver} driver, which keeps no copy that can be read back`,
      );
    }
    throw new LogsUnsupportedError(`container ${container.id} uses the unknown nerdctl log driver ${driver}`);
  }

  private async nerdctlLogConfig(container: ContainerdContainer, stateDir: string): Promise<NerdctlLogConfig> {
    const label = container.labels[NERDCTL_LABEL.logConfig];
    if (label) {
      const parsed = parseJson(Buffer.from(label));
      if (parsed && typeof parsed === 'object') return parsed;
      this.logger.warn({ container: container.id }, 'nerdctl/log-config label is not JSON; assuming json-file');
      return {};
    }
    const file = await this.roots.resolve(join(stateDir, 'log-config.json'), 'nerdctl log config');
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      // nerdctl < 0.20 wrote no log-config.json: json-file was the only driver.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      this.logger.warn({ err, file }, 'nerdctl log config could not be read');
      throw new InternalError(`the nerdctl log config ${file} could not be read: ${(err as Error).message}`);
    }
    const config = parseJson(bytes);
    if (config && typeof config === 'object') return config;
    this.logger.warn({ file }, 'nerdctl log config is not JSON; assuming json-file');
    return {};
  }

  private async taskUriLog(container: ContainerdContainer, task: ContainerdTask | undefined): Promise<LogLocation> {
    const uri = task?.stdout ?? '';
    if (uri.startsWith('file://')) {
      let path: string;
      try {
        path = fileURLToPath(uri);
      } catch {
        throw new LogsUnsupportedError(`container ${container.id} logs to ${uri}, which is not a file path`);
      }
      const resolved = await this.roots.resolve(path, 'log file');
      return { kind: 'file', path: resolved, format: rawFormat, rotation: 'none', writerClosesAtExit: true };
    }
    if (uri.startsWith('binary://')) {
      throw new LogsUnsupportedError(
        `container ${container.id} logs through the logging binary ${uri.split('?')[0]}, which keeps no file enginegate knows`,
      );
    }
    if (!task) {
      throw new LogsUnsupportedError(
        `container ${container.id} has no task and no known log file: logs are not persisted`,
      );
    }
    throw new LogsUnsupportedError(
      `logs are not persisted: container ${container.id} writes to ${uri ? 'FIFOs' : 'nothing'} ` +
        '(run it with --log-uri file://… or through nerdctl)',
    );
  }
}

/** `binary:///usr/bin/nerdctl?_NERDCTL_INTERNAL_LOGGING=/var/lib/nerdctl/1935db59` → its state dir. */
function nerdctlStateDirFromUri(container: ContainerdContainer, uri: string | undefined): string | undefined {
  if (!uri?.startsWith('binary://')) return undefined;
  let dataStore: string | null;
  try {
    dataStore = new URL(uri).searchParams.get(NERDCTL_LOGGING_PARAM);
  } catch {
    return undefined;
  }
  return dataStore ? join(dataStore, 'containers', container.namespace, container.id) : undefined;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
