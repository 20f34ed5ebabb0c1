import * as grpc from '@grpc/grpc-js';
import {
  EngineUnavailableError,
  InternalError,
  InvalidArgumentError,
  type EngineGateError,
} from '@enginegate/plugin-api';
import {
  timestampToNanos,
  toContainer,
  toTask,
  type ContainerdContainer,
  type ContainerdEnvelope,
  type ContainerdTask,
  type WireContainer,
  type WireEnvelope,
  type WireProcess,
} from './containerd-messages.js';
import { loadContainerdProtos, type ContainerdProtos } from './proto-definitions.js';

export type {
  AnyMessage,
  ContainerdContainer,
  ContainerdEnvelope,
  ContainerdTask,
  TaskStatus,
} from './containerd-messages.js';

/** The metadata key containerd reads the namespace of a request from. */
const NAMESPACE_HEADER = 'containerd-namespace';
const DEFAULT_CALL_TIMEOUT_MS = 10_000;

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  // A unix socket needs no authority; grpc-js otherwise derives one from the path.
  'grpc.default_authority': 'localhost',
  // Reconnect soon after a daemon restart. No keepalive pings: a local socket does not need
  // them, and containerd's server rejects clients that ping more often than every 5 minutes.
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

/** `/run/containerd/containerd.sock` → `unix:///run/containerd/containerd.sock`. */
export function grpcTarget(address: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(address)) return address;
  return `unix://${address}`;
}

type UnaryMethod = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: unknown) => void,
) => grpc.ClientUnaryCall;

type ServiceClient = grpc.Client & Record<string, UnaryMethod>;

/** The service constructors of the loaded package, by proto package path. */
interface ContainerdServices {
  containerd: {
    services: Record<
      'version' | 'namespaces' | 'containers' | 'tasks' | 'events',
      { v1: Record<string, grpc.ServiceClientConstructor> }
    >;
  };
}

/**
 * The read-only slice of containerd's gRPC API the plugin needs, over one channel. Every
 * namespaced call carries the `containerd-namespace` header; every unary call has a deadline,
 * so a hung daemon cannot hang a request. gRPC failures become plugin-api errors:
 * unreachable → `EngineUnavailableError`, NOT_FOUND → `undefined`.
 */
export class ContainerdClient {
  readonly address: string;
  private readonly protos: ContainerdProtos;
  private readonly channel: grpc.Channel;
  private readonly version: ServiceClient;
  private readonly namespaces: ServiceClient;
  private readonly containers: ServiceClient;
  private readonly tasks: ServiceClient;
  private readonly events: grpc.Client;
  private readonly callTimeoutMs: number;
  private closed = false;

  constructor(address: string, options: { protoDir?: string; callTimeoutMs?: number } = {}) {
    this.address = address;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.protos = loadContainerdProtos(options.protoDir);
    this.channel = new grpc.Channel(grpcTarget(address), grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    const services = this.protos.services as unknown as ContainerdServices;
    const make = (ctor: grpc.ServiceClientConstructor) =>
      new ctor(grpcTarget(address), grpc.credentials.createInsecure(), {
        channelOverride: this.channel,
      }) as ServiceClient;
    const v1 = services.containerd.services;
    this.version = make(v1.version.v1.Version!);
    this.namespaces = make(v1.namespaces.v1.Namespaces!);
    this.containers = make(v1.containers.v1.Containers!);
    this.tasks = make(v1.tasks.v1.Tasks!);
    this.events = make(v1.events.v1.Events!);
  }

  async getVersion(timeoutMs = this.callTimeoutMs): Promise<{ version: string; revision: string }> {
    const r = await this.unary<{ version: string; revision: string }>(
      this.version,
      'Version',
      {},
      undefined,
      timeoutMs,
    );
    return { version: r.version, revision: r.revision };
  }

  async listNamespaces(): Promise<string[]> {
    const r = await this.unary<{ namespaces: { name: string }[] }>(this.namespaces, 'List', {}, undefined);
    return r.namespaces.map((n) => n.name).sort();
  }

  /** The container, or undefined when it does not exist in that namespace. */
  async getContainer(namespace: string, id: string): Promise<ContainerdContainer | undefined> {
    const r = await this.unaryOrNotFound<{ container: WireContainer }>(this.containers, 'Get', { id }, namespace);
    return r ? toContainer(namespace, r.container) : undefined;
  }

  async listContainers(namespace: string, filters: string[] = []): Promise<ContainerdContainer[]> {
    const r = await this.unary<{ containers: WireContainer[] }>(this.containers, 'List', { filters }, namespace);
    return r.containers.map((c) => toContainer(namespace, c));
  }

  /** The init process of the container's task, or undefined when it has no task. */
  async getTask(namespace: string, containerId: string): Promise<ContainerdTask | undefined> {
    const r = await this.unaryOrNotFound<{ process?: WireProcess | null }>(
      this.tasks,
      'Get',
      { container_id: containerId },
      namespace,
    );
    return r?.process ? toTask(r.process) : undefined;
  }

  async listTasks(namespace: string): Promise<ContainerdTask[]> {
    const r = await this.unary<{ tasks: WireProcess[] }>(this.tasks, 'List', {}, namespace);
    return r.tasks.map(toTask);
  }

  /**
   * Opens an event subscription (all namespaces: containerd filters events by `filters`, not
   * by the namespace header). The caller owns the stream and must `cancel()` it; pass each
   * message through `decodeEnvelope`.
   */
  subscribe(filters: string[]): grpc.ClientReadableStream<unknown> {
    const events = this.events as grpc.Client & {
      Subscribe(request: object, metadata: grpc.Metadata): grpc.ClientReadableStream<unknown>;
    };
    return events.Subscribe({ filters }, new grpc.Metadata());
  }

  /** Turns a raw `Envelope` from `subscribe()` into a decoded one. */
  decodeEnvelope(message: unknown): ContainerdEnvelope {
    const raw = message as WireEnvelope | null | undefined;
    const any = raw?.event;
    return {
      namespace: raw?.namespace ?? '',
      topic: raw?.topic ?? '',
      time: timestampToNanos(raw?.timestamp),
      event: any?.value ? this.protos.decodeAny(any.type_url, any.value) : undefined,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const client of [this.version, this.namespaces, this.containers, this.tasks, this.events]) client.close();
    this.channel.close();
  }

  private unary<T>(
    client: ServiceClient,
    method: string,
    request: object,
    namespace: string | undefined,
    timeoutMs = this.callTimeoutMs,
  ): Promise<T> {
    if (this.closed) return Promise.reject(new EngineUnavailableError('the containerd client was stopped'));
    const metadata = new grpc.Metadata();
    if (namespace !== undefined) metadata.set(NAMESPACE_HEADER, namespace);
    return new Promise<T>((resolve, reject) => {
      client[method]!(request, metadata, { deadline: Date.now() + timeoutMs }, (err, response) => {
        if (err) reject(err);
        else resolve(response as T);
      });
    }).catch((err: unknown) => {
      throw toEngineError(err, `${method} on ${this.address}`);
    });
  }

  private async unaryOrNotFound<T>(
    client: ServiceClient,
    method: string,
    request: object,
    namespace: string,
  ): Promise<T | undefined> {
    try {
      return await this.unary<T>(client, method, request, namespace);
    } catch (err) {
      // An ID containerd would not accept as an identifier cannot name anything either.
      if (err instanceof InternalError) {
        const code = (err.cause as { code?: number } | undefined)?.code;
        if (code === grpc.status.NOT_FOUND || code === grpc.status.INVALID_ARGUMENT) return undefined;
      }
      throw err;
    }
  }
}

/** True for gRPC statuses that mean "the daemon is not there (right now)". */
export function isUnreachable(code: number | undefined): boolean {
  return code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.CANCELLED;
}

export function toEngineError(err: unknown, what: string): EngineGateError {
  const serviceError = err as Partial<grpc.ServiceError> | null | undefined;
  const code = serviceError?.code;
  const details = serviceError?.details ?? String(err);
  if (isUnreachable(code)) {
    return new EngineUnavailableError(`containerd is unavailable (${what}: ${details})`, { cause: err });
  }
  if (code === grpc.status.INVALID_ARGUMENT && /namespace/.test(details)) {
    // containerd's identifier rules are stricter than the gateway's name check (no `__`, `.-`).
    const error = new InvalidArgumentError('namespace', `containerd rejects the namespace: ${details}`);
    return Object.assign(error, { cause: err });
  }
  return new InternalError(`containerd ${what} failed: ${details}`, { cause: err });
}
