/**
 * The active engine's containers as the events stream tells them: `present` records first, then
 * `synced`, then live changes. Grouped by Compose project for the list.
 */
import type { ContainerInfo as GatewayContainerInfo } from '@enginegate/plugin-api';

/**
 * A container as the gateway describes it (plugin-api's type, used as a type only: nothing of
 * plugin-api is bundled). `labels` is optional here: a gateway before the events route sends none.
 */
export type ContainerInfo = Omit<GatewayContainerInfo, 'labels'> & { labels?: Record<string, string> };

/** One record of `GET /passthrough/engine/events` (JSON framing). */
export type EventRecord =
  | { type: 'container'; action: string; container: ContainerInfo; time?: string; exitCode?: number }
  | { type: 'synced' }
  | { type: 'gap'; reason?: string }
  | { type: 'error'; code?: string; message?: string };

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

export interface ContainerGroup {
  /** The Compose project, or null for the containers of none. */
  project: string | null;
  containers: ContainerInfo[];
}

/** The name a person knows a container by: its first name, else the short ID. */
export function displayName(container: ContainerInfo): string {
  return container.names[0] ?? container.id.slice(0, 12);
}

export function projectOf(container: ContainerInfo): string | null {
  return container.labels?.[COMPOSE_PROJECT_LABEL] ?? null;
}

export class ContainerDirectory {
  private readonly byId = new Map<string, ContainerInfo>();
  /** Until `synced`, the list is incomplete: the page says "loading" instead of "no containers". */
  synced = false;

  get size(): number {
    return this.byId.size;
  }

  /** Applies one events record; true when the list changed. */
  apply(record: EventRecord): boolean {
    if (record.type === 'synced') {
      const changed = !this.synced;
      this.synced = true;
      return changed;
    }
    if (record.type !== 'container') return false;
    const { action, container } = record;
    if (action === 'destroy' || container.state === 'removed') return this.byId.delete(container.id);
    this.byId.set(container.id, container);
    return true;
  }

  /** Replaces everything (a new events connection, or the containers route when there is no events route). */
  replaceAll(containers: readonly ContainerInfo[]): void {
    this.byId.clear();
    for (const container of containers) this.byId.set(container.id, container);
    this.synced = true;
  }

  reset(): void {
    this.byId.clear();
    this.synced = false;
  }

  byName(name: string): ContainerInfo | undefined {
    for (const container of this.byId.values()) if (container.names.includes(name)) return container;
    return undefined;
  }

  /** Compose projects first (by name), then the rest; containers by name. `search` narrows case-insensitively. */
  groups(search = ''): ContainerGroup[] {
    const needle = search.trim().toLowerCase();
    const projects = new Map<string | null, ContainerInfo[]>();
    for (const container of this.byId.values()) {
      const project = projectOf(container);
      if (needle !== '' && !matchesSearch(container, project, needle)) continue;
      let members = projects.get(project);
      if (members === undefined) projects.set(project, (members = []));
      members.push(container);
    }
    const byName = (a: ContainerInfo, b: ContainerInfo) => displayName(a).localeCompare(displayName(b));
    return [...projects.entries()]
      .map(([project, containers]) => ({ project, containers: containers.sort(byName) }))
      .sort((a, b) => (a.project === null ? 1 : b.project === null ? -1 : a.project.localeCompare(b.project)));
  }
}

function matchesSearch(container: ContainerInfo, project: string | null, needle: string): boolean {
  return (
    container.names.some((name) => name.toLowerCase().includes(needle)) ||
    container.image.toLowerCase().includes(needle) ||
    (project !== null && project.toLowerCase().includes(needle)) ||
    container.id.startsWith(needle)
  );
}
