import { isEngineGateError } from './errors.js';
import type { EngineHealth, PluginLogger } from './types.js';

/** One open log stream of an engine: its signal ends every engine resource of the stream. */
export interface OpenStream {
  /** Aborted by the client's signal or by the engine's stop(). */
  readonly signal: AbortSignal;
  /** Forgets the stream (once; later calls do nothing). */
  readonly release: () => void;
  /**
   * On abort, destroys `response` (the engine's HTTP response, say) and releases the stream at
   * once, even if nobody ever iterates it.
   */
  readonly destroyOnAbort: (response: { destroy(): void }) => void;
}

/**
 * The log streams an engine has open, for its `stop()` (which must end them all) and for tests
 * that check nothing is left open. Each stream gets its own AbortController, aborted by the
 * client's signal or by `abortAll()`.
 */
export class OpenStreams {
  private readonly controllers = new Set<AbortController>();

  get size(): number {
    return this.controllers.size;
  }

  open(clientSignal: AbortSignal): OpenStream {
    const controller = new AbortController();
    const abortFromClient = () => controller.abort(clientSignal.reason);
    clientSignal.addEventListener('abort', abortFromClient, { once: true });
    this.controllers.add(controller);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clientSignal.removeEventListener('abort', abortFromClient);
      this.controllers.delete(controller);
    };
    if (clientSignal.aborted) controller.abort(clientSignal.reason);
    const destroyOnAbort = (response: { destroy(): void }) =>
      controller.signal.addEventListener(
        'abort',
        () => {
          response.destroy();
          release();
        },
        { once: true },
      );
    return { signal: controller.signal, release, destroyOnAbort };
  }

  /** Aborts every open stream (and forgets them): the engine stops. */
  abortAll(reason: unknown): void {
    for (const controller of this.controllers) controller.abort(reason);
    this.controllers.clear();
  }
}

/**
 * Tells the gateway at once that the engine was lost — when a request finds the daemon gone,
 * instead of at the next `health()` poll — and only once per outage: the gateway then closes
 * the streams with 1012 and restarts the engine when `health()` is ok again.
 */
export class OutageReporter {
  private healthy = false;

  constructor(
    private readonly reportHealth: (health: EngineHealth) => void,
    private readonly logger: PluginLogger,
    /** Logged with the loss, e.g. `{ docker: 'unix:///var/run/docker.sock' }`. */
    private readonly context: () => object,
  ) {}

  /** start() or health() found the daemon answering. */
  up(): void {
    this.healthy = true;
  }

  /** start() or health() found it down: the gateway knows already, nothing is reported. */
  down(): void {
    this.healthy = false;
  }

  /** A request found the daemon gone: warn and report, unless this outage was reported already. */
  lost(message: string): void {
    if (!this.healthy) return;
    this.healthy = false;
    this.logger.warn(this.context(), message);
    this.reportHealth({ ok: false, message });
  }
}

/**
 * Logs a failed request as the contract wants it seen: the engine's own failures (5xx but 501
 * and 503, which the caller reports as an outage) at error, a client's mistakes (4xx, 501) at
 * debug — they show in the client's answer.
 */
export function logRequestFailure(logger: PluginLogger, mapped: Error, err: unknown, ref: string): void {
  if (isEngineGateError(mapped) && mapped.statusCode >= 500 && mapped.statusCode !== 501 && mapped.statusCode !== 503) {
    logger.error({ err, ref }, mapped.message);
  } else if (isEngineGateError(mapped)) {
    logger.debug({ ref, code: mapped.code }, mapped.message);
  }
}
