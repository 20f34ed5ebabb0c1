import type { PluginLogger } from '@enginegate/plugin-api';
import type { ContainerdClient, ContainerdEnvelope } from './containerd-client.js';
import { initProcessExit } from './containerd-messages.js';
import { namespacedKey, splitNamespacedKey, type EventSubscription } from './event-subscription.js';

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
  /**
   * Watched tasks are also re-checked this often: containerd drops events for subscribers that
   * fall behind, and says nothing about it.
   */
  recheckIntervalMs?: number;
}

/**
 * Tells each follower when its task exits, from the engine's shared event subscription. A
 * follower registers with `watch()` *before* it checks the task with Tasks.Get, so an exit is
 * seen either by that check or by the subscription. Each time the subscription becomes live
 * every watched task is re-checked, which also covers exits lost while the daemon was away.
 */
export class TaskExitMonitor {
  private readonly watches = new Map<string, Set<TaskExitListener>>();
  private recheckTimer: NodeJS.Timeout | null = null;
  private unlisten: (() => void) | null = null;
  private readonly recheckIntervalMs: number;

  constructor(
    private readonly client: ContainerdClient,
    private readonly subscription: EventSubscription,
    private readonly logger: PluginLogger,
    options: TaskExitMonitorOptions = {},
  ) {
    this.recheckIntervalMs = options.recheckIntervalMs ?? 10_000;
  }

  /** Registered (not yet fired) watches; 0 once every follower has been released. */
  get watchCount(): number {
    let n = 0;
    for (const set of this.watches.values()) n += set.size;
    return n;
  }

  start(): void {
    if (this.unlisten) return;
    this.unlisten = this.subscription.listen({
      envelope: (envelope) => this.onEnvelope(envelope),
      live: () => void this.recheckAll(),
    });
    this.recheckTimer = setInterval(() => {
      if (this.subscription.isLive && this.watches.size > 0) void this.recheckAll();
    }, this.recheckIntervalMs);
    this.recheckTimer.unref();
  }

  stop(): void {
    this.unlisten?.();
    this.unlisten = null;
    if (this.recheckTimer) clearInterval(this.recheckTimer);
    this.recheckTimer = null;
  }

  /**
   * Calls `listener` once when the task of `namespace/containerId` exits. Returns the
   * function that unregisters it.
   */
  watch(namespace: string, containerId: string, listener: TaskExitListener): () => void {
    const key = namespacedKey(namespace, containerId);
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

  private onEnvelope(envelope: ContainerdEnvelope): void {
    const exit = initProcessExit(envelope);
    if (exit) this.fire(namespacedKey(envelope.namespace, exit.containerId), { exitCode: exit.exitCode });
  }

  /**
   * Asks containerd about every watched task (one Tasks.List per namespace); fires those that
   * stopped or vanished.
   */
  private async recheckAll(): Promise<void> {
    const byNamespace = new Map<string, string[]>();
    for (const key of this.watches.keys()) {
      const [namespace, containerId] = splitNamespacedKey(key);
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
        if (!task) this.fire(namespacedKey(namespace, id), { exitCode: null });
        else if (task.status === 'STOPPED') this.fire(namespacedKey(namespace, id), { exitCode: task.exitStatus });
      }
    }
  }

  private fire(key: string, exit: TaskExit): void {
    const set = this.watches.get(key);
    if (!set) return;
    this.watches.delete(key);
    for (const listener of set) listener(exit);
  }
}
