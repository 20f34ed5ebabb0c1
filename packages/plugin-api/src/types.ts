import type { AwilixContainer } from 'awilix';
import type { UnixNanos } from './time.js';
import type { Cursor } from './cursor.js';

export const PLUGIN_API_VERSION = 1 as const;

export type EngineState = 'stopped' | 'starting' | 'running' | 'unavailable';
export type StreamName = 'stdout' | 'stderr';

/** One whole line of a container's output. */
export interface LineRecord {
  type: 'line';
  stream: StreamName;
  /** When the engine stamped the line; null where the log has no times (a raw file). */
  time: UnixNanos | null;
  /** The line without its newline: a view of the read buffer, valid until the next pull. */
  line: Buffer;
  /** Opaque; `after=<cursor>` resumes right behind this record. `''` when `linesOnly` left it out. */
  cursor: string;
  /** True when no newline followed these bytes (a line cut at the size limit, or an unterminated tail). */
  partial?: boolean;
}
export interface ExitRecord {
  type: 'exit';
  exitCode: number;
}
/** Lines were lost (e.g. a log file rotated away before it was read). */
export interface GapRecord {
  type: 'gap';
  reason: string;
}
/** The engine failed mid-stream; the stream ends after this record (close 1011). */
export interface ErrorRecord {
  type: 'error';
  code: string;
  message: string;
}
export type LogRecord = LineRecord | ExitRecord | GapRecord | ErrorRecord;

/** A container as `enginegate ps` and `GET /passthrough/engine/containers` show it. */
export interface ContainerInfo {
  id: string;
  names: string[];
  namespace?: string;
  image: string;
  /** Engine words, e.g. `running`, `exited`, `created`. */
  state: string;
  tty: boolean;
  /** RFC3339 */
  createdAt: string;
  /** The container's labels (Docker's, nerdctl's, Podman's, containerd's own); `{}` when it has none. */
  labels: Record<string, string>;
  /**
   * The host it runs on, for an engine of many hosts (a Docker Swarm task's node hostname);
   * absent on a single-host engine.
   */
  node?: string;
  /** The pod it is in (Podman), for the merged streams' `pod=` selector; absent outside a pod. */
  pod?: { id: string; name: string };
  /** True for a pod's infra (pause) container, which holds the pod's namespaces and writes nothing. */
  infra?: true;
}

/**
 * What happened to a container. `create`, `start`, `die` (its process exited) and `destroy`
 * (removed) are what every engine with events reports; `stop` and `rename` where the engine
 * says so; `update` for any other change (e.g. paused). A gateway client treats an action it
 * does not know as "look at `container` again".
 */
export type ContainerAction = 'create' | 'start' | 'die' | 'stop' | 'rename' | 'update' | 'destroy';

/** One change of one container, as the engine reported it. */
export interface ContainerEvent {
  action: ContainerAction;
  /** The container as it is after the change (for `destroy`: as it was, `state` 'removed'). */
  container: ContainerInfo;
  /** When the engine says it happened. */
  time: UnixNanos;
  /** On `die`, when the engine tells it. */
  exitCode?: number;
}

export interface ContainerRef {
  /** A full ID, unique ID prefix or name, already validated by `validateContainerRef`. */
  ref: string;
  /** containerd namespace, when the client named one. */
  namespace?: string;
}

/** What a client asked for, parsed and validated by the gateway (Docker CLI meanings). */
export interface LogOptions {
  follow: boolean;
  /** Number of last lines, or undefined for all. */
  tail?: number;
  since?: UnixNanos;
  until?: UnixNanos;
  stdout: boolean;
  stderr: boolean;
  /** Resume right after this record; overrides `tail`. */
  after?: Cursor;
  /**
   * A hint: the client reads only the lines' bytes and streams, so an engine may leave out
   * times (`time: null`) and cursors (`cursor: ''`) where that is cheaper (moby then asks Docker
   * without timestamps). The gateway sets it for a finished read (`follow=false`) in a framing
   * that shows neither; an engine may ignore it.
   */
  linesOnly?: boolean;
}

/**
 * Reads the logs of one engine's containers.
 *
 * `open` resolves the container and checks that its logs are readable before it returns, so
 * that a bad reference is a 404/409/501 before any WebSocket upgrade. The iterable yields
 * batches of records (as many as one engine read gave); pulling is the backpressure, and
 * `signal` (or `return()` on the iterator) releases every engine resource at once.
 */
export interface LogSource {
  open(ref: ContainerRef, options: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogRecord[]>>;
}

export interface EngineHealth {
  ok: boolean;
  message?: string;
}

export interface Engine {
  readonly name: string;
  /** Connects; rejects (with EngineUnavailableError) when the engine cannot be reached. */
  start(): Promise<void>;
  /** Releases every resource; open log iterables end. */
  stop(): Promise<void>;
  health(): Promise<EngineHealth>;
  readonly logs: LogSource;
  containers(options?: { namespace?: string }): Promise<ContainerInfo[]>;
  /**
   * Optional: the engine's container events, live from now on. Resolves once the engine's
   * subscription is open (so that a `containers()` listed after it misses nothing), then
   * yields batches of events in the engine's order. The iterable ends (or throws an
   * EngineUnavailableError) when the engine connection is lost; `signal` or `return()`
   * release the subscription. An engine without it is polled through `containers()` by
   * the gateway.
   */
  events?(signal: AbortSignal): Promise<AsyncIterable<ContainerEvent[]>>;
  /** Extra read-only endpoints, served under `/passthrough/{controller}/{endpoint}`. */
  passthroughs?(): PassthroughEndpoint[];
}

export interface PassthroughEndpoint {
  controller: string;
  endpoint: string;
  handler(request: { params: Record<string, string>; query: Record<string, string> }): Promise<unknown>;
}

export interface PluginLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** What the gateway hands a plugin's `register`; the same services are in its scope (PluginServices). */
export interface PluginOptions {
  /** Plugin-specific settings from the command line and environment (e.g. `dockerSocket`). */
  config: Readonly<Record<string, unknown>>;
  logger: PluginLogger;
  /**
   * Tells the gateway at once that the engine was lost or is back, instead of waiting for the
   * next `health()` poll.
   */
  reportHealth: (health: EngineHealth) => void;
}

/** One setting of a plugin: a JSON Schema property (validated by the gateway with ajv). */
export interface PluginSettingSchema {
  type?: 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
  default?: unknown;
  description?: string;
  [keyword: string]: unknown;
}

/**
 * A plugin's settings as a JSON Schema object. The gateway validates `options.config` against it
 * at load, fills defaults and turns the strings of `--plugin-config` and the environment into the
 * declared types; every mistake names the plugin and the key.
 */
export interface PluginSettingsSchema {
  type: 'object';
  properties: Record<string, PluginSettingSchema>;
  required?: string[];
  additionalProperties?: boolean;
}

export interface EnginePlugin {
  readonly name: string;
  readonly apiVersion: typeof PLUGIN_API_VERSION;
  /**
   * Optional: the settings `register` gets in `options.config`, from `--plugin-config
   * NAME.KEY=VALUE`, `ENGINEGATE_<NAME>_<KEY>` or `--config FILE` (in that precedence).
   */
  readonly settings?: PluginSettingsSchema;
  /**
   * Adds the plugin's services to its own awilix scope, which holds the gateway's PluginServices
   * (`settings`, `logger`, `clock`, `metrics`, `reportHealth`, `pluginName`). Either registers
   * the engine as `engine` (see `registerEngine`) and returns nothing, and the gateway resolves
   * it from the scope, or returns the Engine itself (as plugin API 1 always did).
   */
  register(container: AwilixContainer, options: PluginOptions): Engine | void | Promise<Engine | void>;
}

/** Types a plugin module's default export. */
export function definePlugin<P extends EnginePlugin>(plugin: P): P {
  return plugin;
}
