// Pods and containers made the way the kubelet makes them, through the CRI gRPC API
// (`runtime.v1.RuntimeService`, proto/cri/runtime/v1/api.proto) of a private containerd started
// with `{ cri: true }`; and kubelet-style log rotation (rename, then ReopenContainerLog).
//
//   const cri = new CriClient(cd.address);
//   const pod = await cri.runPod({ name: 'web', logDirectory: join(cd.logDir, 'pods', 'default_web_1') });
//   const id = await cri.startContainer(pod, { name: 'app', script: 'echo hi' });
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { SANDBOX_IMAGE } from './containerd.js';

// The CRI subset is test-only: it stays in the repository's proto/ (two levels above dist/).
const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

export interface PodSpec {
  name: string;
  /** Where the pod's container logs go (the kubelet uses /var/log/pods/<ns>_<name>_<uid>). */
  logDirectory: string;
  namespace?: string;
  uid?: string;
}

export interface Pod {
  id: string;
  config: object;
  logDirectory: string;
}

export interface CriContainerSpec {
  name: string;
  script: string;
  image?: string;
}

type Callback = (err: grpc.ServiceError | null, response?: unknown) => void;

export class CriClient {
  private readonly runtime: grpc.Client &
    Record<string, (req: object, options: grpc.CallOptions, cb: Callback) => void>;

  constructor(address: string) {
    const definition = protoLoader.loadSync(['cri/runtime/v1/api.proto'], {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      includeDirs: [PROTO_DIR],
    });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      runtime: { v1: { RuntimeService: grpc.ServiceClientConstructor } };
    };
    this.runtime = new pkg.runtime.v1.RuntimeService(`unix://${address}`, grpc.credentials.createInsecure(), {
      'grpc.default_authority': 'localhost',
    }) as CriClient['runtime'];
  }

  private call<T = unknown>(method: string, request: object): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.runtime[method]!(request, { deadline: Date.now() + 30_000 }, (err, response) =>
        err ? reject(new Error(`CRI ${method}: ${err.details ?? err.message}`)) : resolve(response as T),
      );
    });
  }

  /** Waits until the CRI plugin serves (it initialises after the daemon answers). */
  async ready(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.call('Version', {});
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** A host-network pod (no CNI here), its sandbox running the busybox image's `sleep`. */
  async runPod(spec: PodSpec): Promise<Pod> {
    const config = {
      metadata: { name: spec.name, uid: spec.uid ?? `uid-${spec.name}`, namespace: spec.namespace ?? 'default' },
      log_directory: spec.logDirectory,
      labels: { 'io.kubernetes.pod.name': spec.name, 'io.kubernetes.pod.namespace': spec.namespace ?? 'default' },
      linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    const { pod_sandbox_id } = await this.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config });
    return { id: pod_sandbox_id, config, logDirectory: spec.logDirectory };
  }

  /** Creates and starts a container as the kubelet does; its log is `<pod logs>/<name>/0.log`. */
  async startContainer(pod: Pod, spec: CriContainerSpec): Promise<{ id: string; logPath: string }> {
    const podMeta = (pod.config as { metadata: { name: string; namespace: string; uid: string } }).metadata;
    const { container_id } = await this.call<{ container_id: string }>('CreateContainer', {
      pod_sandbox_id: pod.id,
      sandbox_config: pod.config,
      config: {
        metadata: { name: spec.name },
        image: { image: spec.image ?? SANDBOX_IMAGE },
        command: ['/bin/sh', '-c', spec.script],
        log_path: `${spec.name}/0.log`,
        labels: {
          'io.kubernetes.container.name': spec.name,
          'io.kubernetes.pod.name': podMeta.name,
          'io.kubernetes.pod.namespace': podMeta.namespace,
          'io.kubernetes.pod.uid': podMeta.uid,
        },
      },
    });
    await this.call('StartContainer', { container_id });
    return { id: container_id, logPath: join(pod.logDirectory, spec.name, '0.log') };
  }

  /**
   * The kubelet's rotation: rename the live log to `<log>.<YYYYMMDD-HHMMSS>`, then ask the
   * runtime to reopen it (a new file at the old path). Returns the rotated file's path.
   */
  async rotateLog(containerId: string, logPath: string, when = new Date()): Promise<string> {
    const p = (n: number) => String(n).padStart(2, '0');
    const stamp =
      `${when.getUTCFullYear()}${p(when.getUTCMonth() + 1)}${p(when.getUTCDate())}-` +
      `${p(when.getUTCHours())}${p(when.getUTCMinutes())}${p(when.getUTCSeconds())}`;
    const rotated = `${logPath}.${stamp}`;
    await rename(logPath, rotated);
    await this.call('ReopenContainerLog', { container_id: containerId });
    return rotated;
  }

  async removePod(pod: Pod): Promise<void> {
    await this.call('StopPodSandbox', { pod_sandbox_id: pod.id }).catch(() => undefined);
    await this.call('RemovePodSandbox', { pod_sandbox_id: pod.id }).catch(() => undefined);
  }

  close(): void {
    this.runtime.close();
  }
}
