import type { ContainerRef, Engine, LogOptions, LogRecord, LogSource } from '@enginegate/plugin-api';

/** One `LogSource.open` call the gateway made, and whether its stream has been let go. */
export interface OpenedStream {
  ref: ContainerRef;
  options: LogOptions;
  signal: AbortSignal;
  /** True once the signal aborted, `return()` was called or the iterable ended. */
  released: boolean;
}

/**
 * Watches what the gateway asks of the engine under test without changing what it does: its
 * `logs.open` calls are counted and followed until released. Scenarios use it to check "a 400
 * comes before the engine is touched" and "a client leaving releases the engine stream".
 */
export class EngineProbe {
  readonly opened: OpenedStream[] = [];

  constructor(readonly engine: Engine) {
    const original = engine.logs;
    const logs: LogSource = {
      open: async (ref, options, signal) => {
        const record: OpenedStream = { ref, options, signal, released: signal.aborted };
        this.opened.push(record);
        signal.addEventListener('abort', () => (record.released = true), { once: true });
        try {
          return followRelease(await original.open(ref, options, signal), record);
        } catch (err) {
          record.released = true;
          throw err;
        }
      },
    };
    // The gateway holds this very object, so the probe goes on it: an own property shadows a
    // class field or getter alike.
    Object.defineProperty(engine, 'logs', { value: logs, configurable: true, enumerable: true, writable: false });
  }

  /** Streams opened and not yet released. */
  get active(): OpenedStream[] {
    return this.opened.filter((stream) => !stream.released);
  }
}

function followRelease(source: AsyncIterable<LogRecord[]>, record: OpenedStream): AsyncIterable<LogRecord[]> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = source[Symbol.asyncIterator]();
      return {
        async next() {
          const result = await iterator.next();
          if (result.done) record.released = true;
          return result;
        },
        async return(value?: unknown) {
          record.released = true;
          return iterator.return ? iterator.return(value) : { done: true, value: undefined };
        },
      };
    },
  };
}
