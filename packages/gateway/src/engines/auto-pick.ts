import { errorText, type PluginLogger } from '@enginegate/plugin-api';
import type { EngineRegistry, RegisteredEngine } from './engine-registry.js';
import { withTimeout } from './with-timeout.js';

/**
 * `auto` tries these in order (those that are loaded), then falls back to mock. Podman last: a
 * machine with Docker or containerd running means those; Podman is daemonless, so its service
 * answering means someone started it to be used.
 */
export const AUTO_ORDER = ['moby', 'containerd', 'podman'] as const;
export const FALLBACK_ENGINE = 'mock';

export type AutoPick =
  /** A candidate started and reports healthy: it is running. */
  | { kind: 'running'; registered: RegisteredEngine }
  /** None did: the fallback, not started yet. */
  | { kind: 'fallback'; registered: RegisteredEngine }
  /** None did, and no fallback is loaded. */
  | { kind: 'none' }
  /** A switch came while picking: whatever was started is stopped again. */
  | { kind: 'abandoned' };

export interface AutoPickOptions {
  /** Each candidate's start() and health() must answer within this. */
  probeTimeoutMs: number;
  logger: PluginLogger;
  /** False once a later switch made this pick moot. */
  stillWanted: () => boolean;
}

/** auto: the first of AUTO_ORDER (those loaded) that starts and is healthy; else the fallback. */
export async function pickAutomatically(registry: EngineRegistry, options: AutoPickOptions): Promise<AutoPick> {
  const { logger, stillWanted } = options;
  const tried: string[] = [];
  for (const name of AUTO_ORDER) {
    const candidate = registry.get(name);
    if (!candidate) continue;
    const problem = await probe(registry, candidate, options);
    if (problem !== undefined) {
      tried.push(`${name}: ${problem}`);
      if (!stillWanted()) return { kind: 'abandoned' };
      continue;
    }
    if (!stillWanted()) {
      await registry.stop(candidate);
      return { kind: 'abandoned' };
    }
    logger.info({ engine: name }, `auto: picked ${name}: it started and reports healthy`);
    return { kind: 'running', registered: candidate };
  }
  const fallback = registry.get(FALLBACK_ENGINE);
  if (!fallback) return { kind: 'none' };
  logger.info(
    { engine: FALLBACK_ENGINE, tried },
    tried.length > 0
      ? `auto: picked ${FALLBACK_ENGINE}: no other engine was reachable (${tried.join('; ')})`
      : `auto: picked ${FALLBACK_ENGINE}: no ${AUTO_ORDER.join(', ')} plugin is loaded`,
  );
  return { kind: 'fallback', registered: fallback };
}

/** One candidate: started and healthy within the probe time (undefined), or why not (stopped again). */
async function probe(
  registry: EngineRegistry,
  candidate: RegisteredEngine,
  { probeTimeoutMs, logger }: AutoPickOptions,
): Promise<string | undefined> {
  const { name, engine } = candidate;
  try {
    await withTimeout(engine.start(), probeTimeoutMs, `starting ${name}`);
    const health = await withTimeout(engine.health(), probeTimeoutMs, `${name} health check`);
    if (!health.ok) throw new Error(health.message ?? 'unhealthy');
    return undefined;
  } catch (err) {
    logger.info({ engine: name, reason: errorText(err) }, `auto: engine ${name} is not reachable, trying the next one`);
    await registry.stop(candidate);
    return errorText(err);
  }
}
