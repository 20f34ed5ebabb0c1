import type { PluginSettingSources } from '../plugin-settings.js';
import type { AwilixContainer, Resolver } from 'awilix';
import type { Registry } from 'prom-client';
import { EngineUnavailableError, type Engine, type EngineState, type PluginLogger } from '@enginegate/plugin-api';

/** What the logs route holds on to: the engine as it was when the request came, and which generation. */
export interface EngineSnapshot {
  name: string;
  engine: Engine;
  /** Bumped on every switch and every loss; a stream of an older generation is closed 1012. */
  generation: number;
}

export interface EngineStatus {
  name: string | null;
  state: EngineState;
}

/** Emitted as 'change' on every state change; `reason` is what closing streams tell their clients. */
export interface EngineChange extends EngineStatus {
  reason: string;
  generation: number;
}

export interface EngineManagerOptions {
  /** Parent of each engine's awilix scope. */
  container: AwilixContainer;
  logger: PluginLogger & { child(bindings: object): PluginLogger };
  pluginConfig: Record<string, Record<string, unknown>>;
  /** The environment and file layers under `pluginConfig`. */
  pluginSettingSources?: PluginSettingSources;
  /**
   * Per plugin name, awilix registrations put into that plugin's scope over the gateway's
   * services, before and again after its `register` (so they also replace the plugin's own).
   */
  pluginServices?: Record<string, Record<string, Resolver<unknown>>>;
  /** Where the plugins' metrics go (the gateway's `GET /metrics`); default a registry of their own. */
  metricsRegistry?: Registry;
  healthIntervalMs: number;
  /** A start() that takes longer counts as failed (and is retried). Default 30 s. */
  startTimeoutMs?: number;
  /** How long `auto` waits for each candidate before moving on. Default 3 s. */
  autoProbeTimeoutMs?: number;
  /** How long `use()` waits for the new engine's first start attempt before answering. Default 2 s. */
  useSettleMs?: number;
}

/** Why there is no engine to serve, as a 503 with a Retry-After that fits the state. */
export function notRunningError(
  status: EngineStatus,
  problem: string,
  unavailableRetryAfterSeconds: number,
): EngineUnavailableError {
  switch (status.state) {
    case 'starting':
      return new EngineUnavailableError(
        status.name !== null ? `engine ${status.name} is starting` : 'an engine is being picked (auto)',
        { retryAfterSeconds: 1 },
      );
    case 'unavailable':
      return new EngineUnavailableError(`engine ${status.name ?? '(none)'} is unavailable: ${problem}`, {
        retryAfterSeconds: unavailableRetryAfterSeconds,
      });
    default:
      return new EngineUnavailableError('no engine is active: choose one with PUT /engine', { retryAfterSeconds: 5 });
  }
}
