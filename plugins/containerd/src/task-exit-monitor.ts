import type { ClientReadableStream } from '@grpc/grpc-js';
import type { EngineHealth, PluginLogger } from '@enginegate/plugin-api';
import type { ContainerdClient } from './containerd-client.js';

/** How a followed task ended. `exitCode` is null when the task vanished while unobserved. */
export interface TaskExit {
  exitCode: number | null;
}
export type TaskExitListener = (exit: TaskExit) => void;

/** Tells a follower when its task exits. */
export interface TaskWatch {
  /**
   * Starts watching the task and checks that it is running (in that order, so that no exit is
   * missed). Resolves 'running', or, watching nothing, how the task already ended.
   */
  begin(onExit: (exit: TaskExit) => void): Promise<'running' | TaskExit>;
  /** Stops watching; idempotent. */
  end(): void;
}

export interface TaskExitMonitorOptions {
  /** How long a new subscription must stay open before it counts as live (see `settle`). */
  settleMs?: number;
  /**
   * Watched tasks are also re-checked this often: containerd drops events for subscribers that
   * fall behind, and says nothing about it.
   */
  recheckIntervalMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

const EXIT_TOPIC_FILTER = 'topic=="/tasks/exit"';

/**
 * One `Events.Subscribe` stream, shared by every follower, that tells each when its task
 * exits. A follower registers with `watch()` *before* it checks the task with Tasks.Get, so
 * an exit is seen either by that check or by this stream.
 *
 * containerd does not acknowledge a subscription, so a new stream counts as live once it has
 * stayed open for `settleMs`; at that moment every watched task is re-checked, which also
 * covers exits lost while the daemon was away. When the stream fails the daemon is reported
 * lost (`onHealth({ ok: false })`) and the monitor resubscribes with backoff; the first live
 * subscription after that reports it back.
 */
export class TaskExitMonitor {
  private readonly watches = new Map<string, Set<TaskExitListener>>();
  private stream: ClientReadableStream<unknown> | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private recheckTimer: NodeJS.Timeout | null = null;
  private running = false;
  private live = false;
  private lostReported = false;
  private backoffMs: number;
  private readonly settleMs: number;
  private readonly recheckIntervalMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly client: ContainerdClient,
    private readonly logger: PluginLogger,
    private readonly onHealth: (health: EngineHealth) => void,
    options: TaskExitMonitorOptions = {},
  ) {
    this.settleMs = options.settleMs ?? 150;
    this.recheckIntervalMs = options.recheckIntervalMs ?? 10_000;
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 4_000;
    this.backoffMs = this.initialBackoffMs;
  }

  /** True while a subscription is open and settled. */
  get isLive(): boolean {
    return this.live;
  }

  /** Registered (not yet fired) watches; 0 once every follower has been released. */
  get watchCount(): number {
    let n = 0;
    for (const set of this.watches.values()) n += set.size;
    return n;
  }

  /** Open subscriptions: 1 while running (0 between a loss and the resubscription). */
  get subscriptionCount(): number {
    return this.stream ? 1 : 0;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.subscribe();
    this.recheckTimer = setInterval(() => {
      if (this.live && this.watches.size > 0) void this.recheckAll();
    }, this.recheckIntervalMs);
    this.recheckTimer.unref();
  }

  stop(): void {
    this.running = false;
    this.live = false;
    this.clearTimers();
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    this.recheckTimer = null;
    const stream = this.stream;
    this.stream = null;
    stream?.cancel();
  }

  /**
   * Calls `listener` once when the task of `namespace/containerId` exits. Returns the
   * function that unregisters it.
   */
  watch(namespace: string, containerId: string, listener: TaskExitListener): () => void {
    const key = taskKey(namespace, containerId);
    let set = this.watches.get(key);
    if (!set) {
      set = new Set();
      this.watches.set(key, set);
    }
    set.add(listener);
    return () => {
      const current = this.watches.get(key);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.watches.delete(key);
    };
  }

  private subscribe(): void {
    if (!this.running) return;
    const stream = this.client.subscribe([EXIT_TOPIC_FILTER]);
    this.stream = stream;
    stream.on('data', (raw: unknown) => {
      if (this.stream !== stream) return;
      this.onEnvelope(raw);
    });
    stream.on('error', (err: Error) => this.onStreamEnded(stream, err));
    stream.on('end', () => this.onStreamEnded(stream, new Error('the event stream ended')));
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      if (this.stream !== stream) return;
      this.live = true;
      this.backoffMs = this.initialBackoffMs;
      if (this.lostReported) {
        this.lostReported = false;
        this.logger.warn({ address: this.client.address }, 'containerd is back: event subscription restored');
        this.onHealth({ ok: true });
      }
      void this.recheckAll();
    }, this.settleMs);
  }

  private onEnvelope(raw: unknown): void {
    let envelope;
    try {
      envelope = this.client.decodeEnvelope(raw);
    } catch (err) {
      this.logger.warn({ err }, 'containerd event could not be decoded');
      return;
    }
    if (envelope.topic !== '/tasks/exit' || !envelope.event) return;
    const exit = envelope.event as { container_id?: string; id?: string; exit_status?: number };
    // Exits of exec'd processes carry their exec ID; only the init process ends the task.
    if (!exit.container_id || (exit.id && exit.id !== exit.container_id)) return;
    this.fire(taskKey(envelope.namespace, exit.container_id), { exitCode: exit.exit_status ?? 0 });
  }

  private onStreamEnded(stream: ClientReadableStream<unknown>, err: Error): void {
    if (this.stream !== stream) return; // cancelled by stop() or already replaced
    this.stream = null;
    this.live = false;
    this.clearTimers();
    if (!this.running) return;
    const message = `containerd event stream lost: ${(err as { details?: string }).details ?? err.message}`;
    if (!this.lostReported) {
      this.lostReported = true;
      this.logger.warn({ address: this.client.address, err }, message);
      this.onHealth({ ok: false, message });
    } else {
      this.logger.debug({ address: this.client.address }, message);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.subscribe();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
  }

  /**
   * Asks containerd about every watched task (one Tasks.List per namespace); fires those that
   * stopped or vanished.
   */
  private async recheckAll(): Promise<void> {
    const byNamespace = new Map<string, string[]>();
    for (const key of this.watches.keys()) {
      const [namespace, containerId] = splitTaskKey(key);
      byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), containerId]);
    }
    for (const [namespace, ids] of byNamespace) {
      let tasks;
      try {
        tasks = new Map((await this.client.listTasks(namespace)).map((task) => [task.containerId, task]));
      } catch (err) {
        // The stream fails too when the daemon is gone, and its resubscription re-checks.
        this.logger.debug({ err, namespace }, 'task re-check failed');
        return;
      }
      for (const id of ids) {
        const task = tasks.get(id);
        if (!task) this.fire(taskKey(namespace, id), { exitCode: null });
        else if (task.status === 'STOPPED') this.fire(taskKey(namespace, id), { exitCode: task.exitStatus });
      }
    }
  }

  private fire(key: string, exit: TaskExit): void {
    const set = this.watches.get(key);
    if (!set) return;
    this.watches.delete(key);
    for (const listener of set) listener(exit);
  }

  private clearTimers(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.settleTimer = null;
    this.retryTimer = null;
  }
}

// Namespaces and container IDs cannot contain NUL, so it separates them unambiguously.
function taskKey(namespace: string, containerId: string): string {
  return `${namespace}\0${containerId}`;
}

function splitTaskKey(key: string): [string, string] {
  const i = key.indexOf('\0');
  return [key.slice(0, i), key.slice(i + 1)];
}
