import {
  cutInput,
  AmbiguousContainerError,
  ContainerNotFoundError,
  validateNamespace,
  type ContainerRef,
} from '@enginegate/plugin-api';
import type { ContainerdClient, ContainerdContainer } from './containerd-client.js';

/** Docker's own namespaces: its containers are served by the moby plugin, not this one. */
export const EXCLUDED_NAMESPACES: readonly string[] = ['moby', 'plugins.moby'];

export const LABEL = {
  nerdctlName: 'nerdctl/name',
  k8sContainerName: 'io.kubernetes.container.name',
  k8sPodName: 'io.kubernetes.pod.name',
  criKind: 'io.cri-containerd.kind',
} as const;

/** The names a container is known by: its nerdctl name, or its Kubernetes container name. */
export function containerNames(container: ContainerdContainer): string[] {
  const labels = container.labels;
  const nerdctl = labels[LABEL.nerdctlName];
  if (nerdctl) return [nerdctl];
  const k8s = labels[LABEL.k8sContainerName];
  if (k8s) return [k8s];
  const pod = labels[LABEL.k8sPodName];
  if (pod && labels[LABEL.criKind] === 'sandbox') return [pod];
  return [container.id];
}

function matchesName(container: ContainerdContainer, name: string): boolean {
  const labels = container.labels;
  if (labels[LABEL.nerdctlName] === name || labels[LABEL.k8sContainerName] === name) return true;
  // A pod name selects the pod's containers, not its sandbox ("pause") container.
  return labels[LABEL.k8sPodName] === name && labels[LABEL.criKind] !== 'sandbox';
}

function describe(container: ContainerdContainer): string {
  const name = containerNames(container)[0]!;
  const id = container.id.length > 12 ? container.id.slice(0, 12) : container.id;
  return name === container.id ? `${container.namespace}/${id}` : `${container.namespace}/${name} (${id})`;
}

/**
 * Finds the one container a reference names, as `docker logs` would: an exact ID first, then
 * a name (nerdctl's `nerdctl/name` label, the Kubernetes container or pod name), then a unique
 * ID prefix — across the client's namespace, or every namespace but Docker's.
 */
export class ContainerResolver {
  constructor(private readonly client: ContainerdClient) {}

  async namespaces(requested?: string): Promise<string[]> {
    if (requested !== undefined) return [validateNamespace(requested)];
    const all = await this.client.listNamespaces();
    return all.filter((ns) => !EXCLUDED_NAMESPACES.includes(ns));
  }

  async resolve(ref: ContainerRef): Promise<ContainerdContainer> {
    const namespaces = await this.namespaces(ref.namespace);
    const exact = (await Promise.all(namespaces.map((ns) => this.client.getContainer(ns, ref.ref)))).filter(
      (c): c is ContainerdContainer => c !== undefined,
    );
    const found = this.pick(ref.ref, exact);
    if (found) return found;

    const all = (await Promise.all(namespaces.map((ns) => this.client.listContainers(ns)))).flat();
    const byName = this.pick(
      ref.ref,
      all.filter((c) => matchesName(c, ref.ref)),
    );
    if (byName) return byName;
    const byPrefix = this.pick(
      ref.ref,
      all.filter((c) => c.id.startsWith(ref.ref)),
    );
    if (byPrefix) return byPrefix;
    const where =
      ref.namespace !== undefined ? `namespace ${ref.namespace}` : `namespaces ${namespaces.join(', ') || '(none)'}`;
    throw new ContainerNotFoundError(ref.ref, `no such container: ${cutInput(ref.ref)} (searched containerd ${where})`);
  }

  private pick(ref: string, matches: ContainerdContainer[]): ContainerdContainer | undefined {
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new AmbiguousContainerError(ref, matches.map(describe).sort());
    return undefined;
  }
}
