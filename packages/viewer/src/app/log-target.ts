/**
 * What the log pane follows: one container, several (one merged stream), or a Compose project
 * (a merged stream whose membership the gateway keeps live). Containers are named, not given by
 * ID, so that a reconnect after an engine switch finds the same name on the next engine.
 */
export type LogTarget =
  | { kind: 'container'; name: string; namespace?: string }
  | { kind: 'containers'; names: string[] }
  | { kind: 'project'; project: string };

export interface StreamQuery {
  /** Lines of history per container; ignored when `after` is set. */
  tail: number;
  /** A cursor from the last line record: resume right after it. */
  after?: string;
  follow?: boolean;
}

export const LOGS_PATH = '/passthrough/engine/logs';

/** The logs route for a target (docs/api.md): `/passthrough/engine/logs/NAME?…` or `…/logs?container=…`. */
export function logsPath(target: LogTarget, query: StreamQuery): string {
  const params = new URLSearchParams();
  let path = LOGS_PATH;
  if (target.kind === 'container') {
    path += `/${encodeURIComponent(target.name)}`;
    if (target.namespace !== undefined) params.set('namespace', target.namespace);
  } else if (target.kind === 'containers') {
    for (const name of target.names) params.append('container', name);
  } else {
    params.set('project', target.project);
  }
  params.set('follow', String(query.follow ?? true));
  if (query.after !== undefined) params.set('after', query.after);
  else params.set('tail', String(query.tail));
  return `${path}?${params.toString()}`;
}

export function isMerged(target: LogTarget): boolean {
  return target.kind !== 'container';
}

/** For the pane's title and a download's file name. */
export function targetLabel(target: LogTarget): string {
  if (target.kind === 'container') return target.name;
  if (target.kind === 'project') return `project ${target.project}`;
  return target.names.join(', ');
}

export function targetFileStem(target: LogTarget): string {
  const stem =
    target.kind === 'project' ? target.project : target.kind === 'container' ? target.name : target.names.join('+');
  return stem.replace(/[^A-Za-z0-9_.+-]+/g, '_').slice(0, 80);
}

export function sameTarget(a: LogTarget | null, b: LogTarget | null): boolean {
  if (a === null || b === null) return a === b;
  return logsPath(a, { tail: 0 }) === logsPath(b, { tail: 0 });
}
