// containerd's messages as the plugin uses them (camelCase, times in nanoseconds), and how
// they are made from what @grpc/proto-loader decodes.
import { NS_PER_S, type UnixNanos } from '@enginegate/plugin-api';

/** A protobuf `Any` as @grpc/proto-loader hands it over. */
export interface AnyMessage {
  type_url: string;
  value: Buffer;
}

export interface ContainerdContainer {
  namespace: string;
  id: string;
  labels: Record<string, string>;
  image: string;
  createdAt: UnixNanos | null;
  /** The OCI runtime spec (JSON inside the Any), when set. */
  spec: AnyMessage | null;
  /** Client blobs, e.g. the CRI plugin's `io.cri-containerd.container.metadata`. */
  extensions: Record<string, AnyMessage>;
}

export type TaskStatus = 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING';

export interface ContainerdTask {
  containerId: string;
  pid: number;
  status: TaskStatus;
  /** The IO URIs the task was created with: a FIFO path, `file://…` or `binary://…`. */
  stdout: string;
  stderr: string;
  terminal: boolean;
  exitStatus: number;
  exitedAt: UnixNanos | null;
}

export interface ContainerdEnvelope {
  namespace: string;
  topic: string;
  /** When containerd published it; null when unset. */
  time: UnixNanos | null;
  /** The decoded payload, or undefined for a type this proto subset does not know. */
  event: Record<string, unknown> | undefined;
}

/** The messages as @grpc/proto-loader decodes them (snake_case, longs as strings, defaults filled). */
export interface WireTimestamp {
  seconds?: string | number;
  nanos?: number;
}
export interface WireContainer {
  id: string;
  labels?: Record<string, string>;
  image?: string;
  created_at?: WireTimestamp | null;
  spec?: AnyMessage | null;
  extensions?: Record<string, AnyMessage>;
}
export interface WireProcess {
  id?: string;
  container_id?: string;
  pid: number;
  status: TaskStatus;
  stdout?: string;
  stderr?: string;
  terminal?: boolean;
  exit_status?: number;
  exited_at?: WireTimestamp | null;
}
export interface WireEnvelope {
  timestamp?: WireTimestamp | null;
  namespace?: string;
  topic?: string;
  event?: AnyMessage | null;
}
/** A protobuf Timestamp as nanoseconds; null for Go's zero time and unset fields. */
export function timestampToNanos(ts: WireTimestamp | null | undefined): UnixNanos | null {
  if (!ts) return null;
  const seconds = BigInt(ts.seconds ?? 0);
  if (seconds <= 0n) return null;
  return seconds * NS_PER_S + BigInt(ts.nanos ?? 0);
}

export function toContainer(namespace: string, c: WireContainer): ContainerdContainer {
  return {
    namespace,
    id: c.id,
    labels: c.labels ?? {},
    image: c.image ?? '',
    createdAt: timestampToNanos(c.created_at),
    spec: c.spec ?? null,
    extensions: c.extensions ?? {},
  };
}

export function toTask(p: WireProcess): ContainerdTask {
  return {
    // Tasks.List leaves container_id empty and puts the container ID in `id`.
    containerId: p.container_id || (p.id ?? ''),
    pid: p.pid,
    status: p.status,
    stdout: p.stdout ?? '',
    stderr: p.stderr ?? '',
    terminal: Boolean(p.terminal),
    exitStatus: p.exit_status ?? 0,
    exitedAt: timestampToNanos(p.exited_at),
  };
}

/** The topic of task exits. */
export const TASK_EXIT_TOPIC = '/tasks/exit';

/**
 * The exit of a task's init process that a `/tasks/exit` event tells; undefined for any other
 * event, and for the exits of exec'd processes (they carry their exec ID, and end no task).
 */
export function initProcessExit(envelope: ContainerdEnvelope): { containerId: string; exitCode: number } | undefined {
  if (envelope.topic !== TASK_EXIT_TOPIC || !envelope.event) return undefined;
  const exit = envelope.event as { container_id?: string; id?: string; exit_status?: number };
  if (!exit.container_id || (exit.id && exit.id !== exit.container_id)) return undefined;
  return { containerId: exit.container_id, exitCode: exit.exit_status ?? 0 };
}
