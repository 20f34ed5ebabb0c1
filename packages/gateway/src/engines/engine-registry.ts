import { asValue, type AwilixContainer } from '../awilix.js';
import { Registry } from '../prometheus.js';
import {
  ENGINE_SERVICE,
  errorText,
  systemClock,
  type Engine,
  type EngineHealth,
  type EnginePlugin,
  type PluginServices,
} from '@enginegate/plugin-api';
import { PluginLoadError } from '../plugin-loader.js';
import { pluginMetrics } from '../plugin-metrics.js';
import { resolvePluginSettings } from '../plugin-settings.js';
import type { EngineManagerOptions } from './engine-status.js';
import { withTimeout } from './with-timeout.js';

const STOP_TIMEOUT_MS = 5000;

/** A loaded engine plugin: its engine and the awilix scope its services live in. */
export interface RegisteredEngine {
  name: string;
  engine: Engine;
  scope: AwilixContainer;
}

export interface EngineRegistryOptions extends Pick<
  EngineManagerOptions,
  'container' | 'logger' | 'pluginConfig' | 'pluginSettingSources' | 'pluginServices' | 'metricsRegistry'
> {
  /** Where a plugin's `reportHealth` calls go. */
  onHealthReport: (engine: Engine, health: EngineHealth) => void;
}

/** The loaded engines by name, each registered once in a scope of its own. */
export class EngineRegistry {
  private readonly engines = new Map<string, RegisteredEngine>();
  private readonly metricsRegistry: Registry;

  constructor(private readonly options: EngineRegistryOptions) {
    this.metricsRegistry = options.metricsRegistry ?? new Registry();
  }

  /** Names of the loaded engines, sorted. */
  names(): string[] {
    return [...this.engines.keys()].sort();
  }

  has(name: string): boolean {
    return this.engines.has(name);
  }

  get(name: string): RegisteredEngine | undefined {
    return this.engines.get(name);
  }

  /**
   * Gives the plugin its own awilix scope (the PluginServices, then the program's `pluginServices`
   * for it), calls `register`, registers those again over the plugin's own, and resolves the
   * engine from the scope (or takes the one `register` returned). Throws a PluginLoadError naming
   * the plugin when the name is taken, `register` or the engine's construction throws, or there
   * is no usable engine.
   */
  async add(spec: string, plugin: EnginePlugin): Promise<RegisteredEngine> {
    if (this.engines.has(plugin.name)) {
      throw new PluginLoadError(spec, `plugin ${spec}: an engine named "${plugin.name}" is loaded already`);
    }
    const { pluginConfig, pluginSettingSources } = this.options;
    const settings = resolvePluginSettings(spec, plugin, pluginConfig[plugin.name], pluginSettingSources);
    const scope = this.options.container.createScope<PluginServices>();
    let engine: Engine | undefined;
    const services = this.pluginServices(plugin.name, settings, (health) => {
      if (engine !== undefined) this.options.onHealthReport(engine, health);
    });
    const overrides = this.options.pluginServices?.[plugin.name] ?? {};
    scope.register({ ...asValues(services), ...overrides });
    try {
      const { settings: config, logger, reportHealth } = services;
      const returned = await plugin.register(scope, { config, logger, reportHealth });
      if (returned !== undefined) scope.register(ENGINE_SERVICE, asValue(returned));
      scope.register(overrides);
      if (!scope.hasRegistration(ENGINE_SERVICE)) {
        throw new Error(`it returned no engine and registered none as "${ENGINE_SERVICE}" in its scope`);
      }
      engine = scope.resolve<Engine>(ENGINE_SERVICE);
    } catch (err) {
      void scope.dispose();
      throw new PluginLoadError(spec, `plugin ${spec} (name "${plugin.name}") failed in register: ${errorText(err)}`, {
        cause: err,
      });
    }
    const shapeProblem = engineShapeProblem(engine);
    if (shapeProblem !== undefined) {
      void scope.dispose();
      throw new PluginLoadError(
        spec,
        `plugin ${spec} (name "${plugin.name}") returned no usable engine from register: ${shapeProblem}`,
      );
    }
    const registered = { name: plugin.name, engine, scope };
    this.engines.set(plugin.name, registered);
    return registered;
  }

  /** What every plugin's scope holds. */
  private pluginServices(
    pluginName: string,
    settings: Readonly<Record<string, unknown>>,
    reportHealth: (health: EngineHealth) => void,
  ): PluginServices {
    return {
      pluginName,
      settings,
      logger: this.options.logger.child({ engine: pluginName }),
      clock: systemClock,
      metrics: pluginMetrics(this.metricsRegistry, pluginName),
      reportHealth,
    };
  }

  /** Stops an engine; one that fails or takes over 5 s is logged and left. */
  async stop(registered: RegisteredEngine): Promise<void> {
    try {
      await withTimeout(registered.engine.stop(), STOP_TIMEOUT_MS, `stopping ${registered.name}`);
    } catch (err) {
      this.options.logger.warn({ engine: registered.name, err: errorText(err) }, 'engine did not stop cleanly');
    }
  }

  /** Releases every engine's scope. */
  async dispose(): Promise<void> {
    for (const registered of this.engines.values()) await registered.scope.dispose();
  }
}

function asValues(services: PluginServices): Record<string, ReturnType<typeof asValue>> {
  return Object.fromEntries(Object.entries(services).map(([name, value]) => [name, asValue(value)]));
}

function engineShapeProblem(engine: unknown): string | undefined {
  if (engine === null || typeof engine !== 'object') return `got ${engine === null ? 'null' : typeof engine}`;
  const e = engine as Partial<Engine>;
  for (const method of ['start', 'stop', 'health', 'containers'] as const) {
    if (typeof e[method] !== 'function') return `it has no ${method}() method`;
  }
  if (typeof e.logs?.open !== 'function') return 'it has no logs.open() method';
  return undefined;
}
