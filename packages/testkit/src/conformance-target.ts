import type { Engine, EnginePlugin, StreamName } from '@enginegate/plugin-api';

/** One line a test container writes: the bytes WITHOUT the newline (the harness adds `\n`). */
export interface ContainerWrite {
  stream: StreamName;
  bytes: Buffer;
}

export interface ContainerOptions {
  /** Delay between two lines, in milliseconds (default 0: all at once). */
  intervalMs?: number;
  /** Exit with this code right after the last line; undefined keeps the container running. */
  exitCode?: number;
  /** Run the container with a terminal (stdout and stderr merged). */
  tty?: boolean;
}

/** What the suite hands `createContainer` beside the lines. */
export interface ContainerContext {
  /** A fresh, valid, unique container name; use it (or ignore it and return your own ref). */
  name: string;
  /** The Engine the plugin's `register` returned: the one the gateway runs. */
  engine: Engine;
}

export interface CreatedContainer {
  /** A reference the gateway resolves: name or ID. */
  ref: string;
  /** Removes the container (and stops it); the suite calls it once the scenario is done. */
  remove(): Promise<void>;
}

/**
 * What an engine can do. Everything defaults to true; say `false` for what yours cannot do,
 * and give the reason in `capabilityNotes`: the scenarios that need it are skipped with it.
 */
export interface Capabilities {
  /** stdout and stderr arrive as separate streams. */
  stderr?: boolean;
  /** Every line carries the time the engine stamped it (needed for since/until/timestamps). */
  times?: boolean;
  /**
   * Containers exit: `createContainer(..., { exitCode })` ends the container after its lines,
   * and a followed stream of it ends. False for an engine whose containers never exit (then the
   * suite reads `follow=false` until the lines are there instead of following to the end, and
   * skips what needs an exit); false implies `exitCode: false`.
   */
  exits?: boolean;
  /** A followed stream ends with an `exit` record carrying the exit code. */
  exitCode?: boolean;
  /** `createContainer(..., { tty: true })` runs the container on a terminal. */
  tty?: boolean;
  /** Hex ID prefixes resolve, and an ambiguous one is a 409. */
  idPrefix?: boolean;
  /** Bytes that are not UTF-8 survive the engine's log storage (Docker's json-file driver replaces them). */
  binarySafe?: boolean;
}
export type CapabilityName = keyof Capabilities;

export interface ConformanceTarget {
  /** Names the engine in test output and in the report (e.g. `mock`, `moby`). */
  name: string;
  /** The plugin under test: its module's default export. */
  plugin: EnginePlugin;
  /** Handed to the plugin's `register` as `options.config`. */
  pluginConfig?: Record<string, unknown>;
  /** Creates (and starts) a container that writes `lines`, each followed by a newline. */
  createContainer(
    lines: ContainerWrite[],
    options: ContainerOptions,
    context: ContainerContext,
  ): Promise<CreatedContainer>;
  capabilities?: Capabilities;
  /** Why each capability set to false is missing: the skip reason shown in the test output. */
  capabilityNotes?: Partial<Record<CapabilityName, string>>;
  /**
   * Stops and starts the engine itself (a daemon, not the gateway's handle on it), to check
   * that a lost engine is a 503 and that the gateway serves it again once it is back.
   */
  engineHandle?: { stop(): Promise<void>; start(): Promise<void> };
  /**
   * How many log streams the engine holds open right now (readers, sockets, file handles).
   * When given, `abort-releases` checks it returns to where it was once a client has gone.
   */
  countOpenStreams?(engine: Engine): number | Promise<number>;
  /** Run only these scenarios (by name); default all. Handy while writing a plugin. */
  only?: string[];
  /** Per-scenario time limit in milliseconds (default 30,000). */
  scenarioTimeoutMs?: number;
  /** Called with every scenario's result, beside the JSON-lines report. */
  onResult?(result: ScenarioResult): void;
}

export type ScenarioOutcome = 'pass' | 'fail' | 'skip';

export interface ScenarioResult {
  engine: string;
  scenario: string;
  result: ScenarioOutcome;
  /** Why it was skipped, or the first failure. */
  reason?: string;
}
