import { isConnectionFailure, type ContainerInfo } from '@enginegate/plugin-api';
import type { LibpodClient } from './libpod-client.js';
import type { LibpodContainerSummary } from './libpod-types.js';

/** Inspects in flight at once while listing containers (the list itself lacks `Tty`). */
const INSPECT_CONCURRENCY = 8;

/** A Podman container as `GET /passthrough/engine/containers` shows it: `pod` and `infra` set where they apply. */
export type PodmanContainerInfo = ContainerInfo;

/** A pod as `GET /passthrough/podman/pods` shows it. */
export interface PodmanPodInfo {
  id: string;
  name: string;
  /** Podman's words: `Running`, `Exited`, `Degraded`, … */
  status: string;
  labels: Record<string, string>;
  /** Full IDs of its containers, infra container included. */
  containers: string[];
  infraId?: string;
}

/**
 * Every container (`podman ps -a`). The list lacks `Tty`: each is inspected, a few at a time;
 * a container gone meanwhile is dropped.
 */
export async function listContainers(client: LibpodClient): Promise<PodmanContainerInfo[]> {
  const summaries = await client.listContainers();
  const infos = new Array<PodmanContainerInfo | undefined>(summaries.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < summaries.length; i = next++) {
      try {
        infos[i] = await describeListed(client, summaries[i]!);
      } catch (err) {
        if (isConnectionFailure(err)) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(INSPECT_CONCURRENCY, summaries.length) }, worker));
  return infos.filter((info): info is PodmanContainerInfo => info !== undefined);
}

/** One container (by full ID) as the listing shows it; undefined when it is gone. */
export async function describeContainer(
  client: LibpodClient,
  id: string,
  signal?: AbortSignal,
): Promise<PodmanContainerInfo | undefined> {
  const summary = (await client.listContainers(signal, id)).find((s) => s.Id === id);
  return summary === undefined ? undefined : describeListed(client, summary, signal);
}

async function describeListed(
  client: LibpodClient,
  summary: LibpodContainerSummary,
  signal?: AbortSignal,
): Promise<PodmanContainerInfo> {
  const inspect = await client.inspect(summary.Id, signal);
  const info: PodmanContainerInfo = {
    id: summary.Id,
    names: summary.Names ?? [],
    image: summary.Image,
    state: summary.State,
    tty: inspect.Config.Tty === true,
    createdAt: summary.Created,
    labels: summary.Labels ?? {},
  };
  if (summary.Pod !== '') info.pod = { id: summary.Pod, name: summary.PodName };
  if (summary.IsInfra) info.infra = true;
  return info;
}

export async function listPods(client: LibpodClient): Promise<PodmanPodInfo[]> {
  const pods = await client.listPods();
  return pods.map((pod) => {
    const info: PodmanPodInfo = {
      id: pod.Id,
      name: pod.Name,
      status: pod.Status,
      labels: pod.Labels ?? {},
      containers: (pod.Containers ?? []).map((c) => c.Id),
    };
    if (pod.InfraId) info.infraId = pod.InfraId;
    return info;
  });
}
