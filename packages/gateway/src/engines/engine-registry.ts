import type { AwilixContainer } from 'awilix';
import { errorText, type Engine, type EngineHealth, type EnginePlugin } from '@enginegate/plugin-api';
import { PluginLoadError } from '../plugin-loader.js';
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
  'container' | 'logger' | 'pluginConfig' | 'pluginSettingSources'
> {
  /** Where a plugin's `reportHealth` calls go. */
  onHealthReport: (engine: Engine, health: EngineHealth) => void;
}

/** The loaded engines by name, each registered once in a scope of its own. */
export class EngineRegistry {
  private readonly engines = new Map<string, RegisteredEngine>();

  constructor(private readonly options: EngineRegistryOptions) {}

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
   * Gives the plugin its own awilix scope and calls `register`. Throws a PluginLoadError naming
   * the plugin when the name is taken, `register` throws, or it returns no usable engine.
   */
  async add(spec: string, plugin: EnginePlugin): Promise<RegisteredEngine> {
    if (this.engines.has(plugin.name)) {
      throw new PluginLoadError(spec, `plugin ${spec}: an engine named "${plugin.name}" is loaded already`);
    }
    const { pluginConfig, pluginSettingSources } = this.options;
    const config = resolvePluginSettings(spec, plugin, pluginConfig[plugin.name], pluginSettingSources);
    const scope = this.options.container.createScope();
    let engine: Engine;
    try {
      engine = await plugin.register(scope, {
        config,
        logger: this.options.logger.child({ engine: plugin.name }),
        reportHealth: (health) => this.options.onHealthReport(engine, health),
      });
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

function engineShapeProblem(engine: unknown): string | undefined {
  if (engine === null || typeof engine !== 'object') return `got ${engine === null ? 'null' : typeof engine}`;
  const e = engine as Partial<Engine>;
  for (const method of ['start', 'stop', 'health', 'containers'] as const) {
    if (typeof e[method] !== 'function') return `it has no ${method}() method`;
  }
  if (typeof e.logs?.open !== 'function') return 'it has no logs.open() method';
  return undefined;
}
