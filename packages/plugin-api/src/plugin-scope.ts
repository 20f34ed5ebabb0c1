import type { AwilixContainer, Resolver } from 'awilix';
import type { UnixNanos } from './time.js';
import type { Engine, EngineHealth, PluginLogger } from './types.js';

/** Reads the current time; a plugin resolves `clock` from its scope so that a test can pin it. */
export type Clock = () => UnixNanos;

// Wall-clock time at nanosecond resolution: Date.now() is whole milliseconds, so anchor the
// monotonic hrtime to it once. Real engines stamp lines in nanoseconds.
const WALL_MINUS_MONOTONIC = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export const systemClock: Clock = () => WALL_MINUS_MONOTONIC + process.hrtime.bigint();

/** A counter a plugin adds to the gateway's `GET /metrics`. */
export interface PluginCounter {
  inc(labels?: Record<string, string>, value?: number): void;
}

/** A gauge a plugin adds to the gateway's `GET /metrics`. */
export interface PluginGauge {
  set(value: number, labels?: Record<string, string>): void;
}

/**
 * The gateway's metrics registry as a plugin sees it: each metric is served as
 * `enginegate_plugin_<plugin>_<name>`; asking twice for one name gives the same metric.
 */
export interface PluginMetrics {
  counter(name: string, help: string, labelNames?: string[]): PluginCounter;
  gauge(name: string, help: string, labelNames?: string[]): PluginGauge;
}

/** What the gateway registers in every plugin's awilix scope before `register` runs. */
export interface PluginServices {
  /** The plugin's (engine's) name. */
  pluginName: string;
  /** The plugin's settings, validated against its `settings` schema (defaults filled). */
  settings: Readonly<Record<string, unknown>>;
  /** The gateway's logger, bound to `{ engine: pluginName }`. */
  logger: PluginLogger;
  clock: Clock;
  metrics: PluginMetrics;
  /** Tells the gateway at once that the engine was lost or is back (see PluginOptions). */
  reportHealth: (health: EngineHealth) => void;
}

/** The registration the gateway resolves a plugin's Engine from, when `register` returns none. */
export const ENGINE_SERVICE = 'engine';

/**
 * An awilix registration built once per plugin scope, from the scope's services, when first
 * resolved: after `register`, so that what a program or test registered over the defaults (a
 * fixed clock, a fake client) is what it gets. Works whatever the container's injection mode.
 */
export function fromScope<T, S extends object = PluginServices>(build: (services: S) => T): Resolver<T> {
  // awilix's Lifetime.SCOPED, spelled out: plugin-api imports only awilix's types, so that a
  // plugin's own copy of plugin-api needs no awilix at run time.
  return { lifetime: 'SCOPED', resolve: (container: AwilixContainer) => build(container.cradle as S) };
}

/** Registers the plugin's engine as `engine`, built by `build` from the scope's services. */
export function registerEngine<S extends object = PluginServices>(
  container: AwilixContainer,
  build: (services: S) => Engine,
): void {
  container.register(ENGINE_SERVICE, fromScope(build));
}
