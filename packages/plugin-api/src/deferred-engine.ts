import { EngineUnavailableError } from './errors.js';
import type { ContainerEvent, ContainerInfo, Engine, EngineHealth, LogSource, PassthroughEndpoint } from './types.js';

/**
 * An Engine whose code is imported at its first `start()`: a gateway serving another engine
 * never loads it (the moby plugin's dockerode and ssh2, containerd's gRPC and protobufjs cost
 * most of a `serve`'s start-up). Until it has started it is stopped: health not ok, and every
 * call an EngineUnavailableError. `hasEvents` must say whether the loaded engine has
 * `events()`, as the gateway looks for it before any start.
 */
export class DeferredEngine implements Engine {
  private loading: Promise<Engine> | undefined;
  private engine: Engine | undefined;
  readonly logs: LogSource = { open: async (ref, options, signal) => this.loaded().logs.open(ref, options, signal) };
  readonly events?: (signal: AbortSignal) => Promise<AsyncIterable<ContainerEvent[]>>;

  constructor(
    readonly name: string,
    private readonly load: () => Promise<Engine>,
    hasEvents: boolean,
  ) {
    if (hasEvents) {
      this.events = async (signal) => {
        const engine = this.loaded();
        if (engine.events === undefined) throw new EngineUnavailableError(`the ${name} engine has no events`);
        return engine.events(signal);
      };
    }
  }

  async start(): Promise<void> {
    this.loading ??= this.load();
    const engine = await this.loading.catch((err: unknown) => {
      this.loading = undefined; // a failed import may be tried again
      throw err;
    });
    this.engine = engine;
    await engine.start();
  }

  /** A stop while the code loads waits for it, then stops the engine its start() is starting. */
  async stop(): Promise<void> {
    const engine = this.engine ?? (await this.loading?.catch(() => undefined));
    await engine?.stop();
  }

  health(): Promise<EngineHealth> {
    return this.engine?.health() ?? Promise.resolve({ ok: false, message: `the ${this.name} engine is not started` });
  }

  async containers(options?: { namespace?: string }): Promise<ContainerInfo[]> {
    return this.loaded().containers(options);
  }

  passthroughs(): PassthroughEndpoint[] {
    return this.engine?.passthroughs?.() ?? [];
  }

  /** The engine once loaded, for a program or test that needs its own methods. */
  get loadedEngine(): Engine | undefined {
    return this.engine;
  }

  private loaded(): Engine {
    if (this.engine === undefined) throw new EngineUnavailableError(`the ${this.name} engine is not started`);
    return this.engine;
  }
}
