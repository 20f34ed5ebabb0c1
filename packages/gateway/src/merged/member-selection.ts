import {
  AmbiguousContainerError,
  ContainerNotFoundError,
  InvalidArgumentError,
  SWARM_LABELS,
  swarmTaskName,
  validateContainerRef,
  type ContainerInfo,
} from '@enginegate/plugin-api';
import { MAX_MEMBERS } from './member.js';

/** The Compose label `project=NAME` stands for. */
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

export interface LabelMatch {
  key: string;
  /** Undefined: the label only has to be there. */
  value?: string;
}

/** Which containers a merged stream follows. */
export type MemberSelector =
  | { kind: 'containers'; refs: string[] }
  | { kind: 'labels'; labels: LabelMatch[] }
  | { kind: 'all' }
  /** Every task of a Docker Swarm service, by the service's name or full ID. */
  | { kind: 'service'; service: string }
  /** Every container of a Podman pod but its infra container, by the pod's name or full ID. */
  | { kind: 'pod'; pod: string };

/** A Docker service name or ID (names: letters, digits, `-`, `_`, `.`; at most 63). */
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
/** A Podman pod name (Podman's rule for names) or full ID. */
const POD_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;

/** The selectors given alone, with one value each: the parameter, what it names, its form. */
const ALONE_SELECTORS = [
  { key: 'service', what: 'a service name or ID', pattern: SERVICE_NAME },
  { key: 'pod', what: 'a pod name or ID', pattern: POD_NAME },
] as const;

type QueryValue = string | string[] | undefined;

function many(value: QueryValue): string[] {
  return value === undefined ? [] : [value].flat();
}

function parseLabel(text: string): LabelMatch {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  if (key.length === 0 || key.length > 255 || /[\s\0]/.test(key))
    throw new InvalidArgumentError('label', `label=${JSON.stringify(text.slice(0, 64))} is not KEY or KEY=VALUE`);
  return eq < 0 ? { key } : { key, value: text.slice(eq + 1) };
}

/** `service=NAME` or `pod=NAME`, given once and alone; undefined when neither is given. */
function parseAloneSelector(query: Record<string, QueryValue>): MemberSelector | undefined {
  for (const { key, what, pattern } of ALONE_SELECTORS) {
    const values = many(query[key]);
    if (values.length === 0) continue;
    if (values.length > 1) throw new InvalidArgumentError(key, `${key} is given more than once`);
    const value = values[0]!;
    if (!pattern.test(value))
      throw new InvalidArgumentError(key, `${key}=${JSON.stringify(value.slice(0, 64))} is not ${what}`);
    const others = ['container', 'label', 'project', 'all', ...ALONE_SELECTORS.map((s) => s.key)].filter(
      (other) => other !== key,
    );
    if (others.some((other) => query[other] !== undefined))
      throw new InvalidArgumentError(
        key,
        `${key}= does not mix with ${others.map((o) => `${o}=`).join(', ')}: use one`,
      );
    return key === 'service' ? { kind: 'service', service: value } : { kind: 'pod', pod: value };
  }
  return undefined;
}

/**
 * Reads `container` (repeatable), `label` (repeatable), `project`, `all`, `service` and `pod`
 * of a merged request; undefined when none is given (not a merged request). `container`,
 * `service` and `pod` do not mix with the others, `all=true` does not mix with a label, and a list is at
 * most MAX_MEMBERS long.
 */
export function parseMemberSelector(query: Record<string, QueryValue>): MemberSelector | undefined {
  const alone = parseAloneSelector(query);
  if (alone !== undefined) return alone;
  const refs = many(query.container);
  const labels = many(query.label).map(parseLabel);
  const projects = many(query.project);
  if (projects.length > 1) throw new InvalidArgumentError('project', 'project is given more than once');
  for (const project of projects) labels.push(parseLabel(`${COMPOSE_PROJECT_LABEL}=${project}`));
  const allValues = many(query.all);
  if (allValues.length > 1) throw new InvalidArgumentError('all', 'all is given more than once');
  const all = allValues[0];
  if (all !== undefined && all !== 'true' && all !== '1')
    throw new InvalidArgumentError('all', `all=${JSON.stringify(all.slice(0, 64))} is not true: leave it out instead`);

  if (refs.length > 0) {
    if (labels.length > 0 || all !== undefined)
      throw new InvalidArgumentError('container', 'container= does not mix with label=, project= or all=: use one');
    if (refs.length > MAX_MEMBERS)
      throw new InvalidArgumentError(
        'container',
        `at most ${MAX_MEMBERS} containers in one merged stream (${refs.length} given)`,
      );
    return { kind: 'containers', refs: refs.map((ref) => validateContainerRef(ref)) };
  }
  if (all !== undefined) {
    if (labels.length > 0) throw new InvalidArgumentError('all', 'all=true does not mix with label= or project=');
    return { kind: 'all' };
  }
  return labels.length > 0 ? { kind: 'labels', labels } : undefined;
}

/**
 * The name a container shows in a merged stream: a swarm task's as `docker service logs` names
 * it (`web.1.b3znzh2pkx7y@node`), any other's first name.
 */
export function containerName(info: ContainerInfo): string {
  return swarmTaskName(info.labels, info.node) ?? info.names[0] ?? info.id.slice(0, 12);
}

/** Whether a container (not named in a list) matches a label or `all` selector. */
export function matchesSelector(selector: MemberSelector, info: ContainerInfo): boolean {
  switch (selector.kind) {
    case 'all':
      return true;
    case 'containers':
      return false;
    case 'labels': {
      const { labels } = info;
      return selector.labels.every(({ key, value }) =>
        value === undefined ? Object.hasOwn(labels, key) : labels[key] === value,
      );
    }
    case 'service':
      return (
        info.labels[SWARM_LABELS.serviceName] === selector.service ||
        info.labels[SWARM_LABELS.serviceId] === selector.service
      );
    case 'pod':
      // The infra container only holds the pod's namespaces: it writes nothing and never exits.
      return (
        info.pod !== undefined &&
        info.infra !== true &&
        (info.pod.name === selector.pod || info.pod.id === selector.pod)
      );
  }
}

/** The container a reference names among `containers`, as `docker logs` finds it: ID, name, then unique ID prefix. */
export function findListed(containers: readonly ContainerInfo[], ref: string): ContainerInfo {
  const exact = containers.find((c) => c.id === ref);
  if (exact) return exact;
  const named = containers.filter((c) => c.names.includes(ref));
  const candidates = named.length > 0 ? named : containers.filter((c) => c.id.startsWith(ref));
  if (candidates.length === 0) throw new ContainerNotFoundError(ref);
  if (candidates.length > 1)
    throw new AmbiguousContainerError(
      ref,
      candidates.map((c) => containerName(c)),
    );
  return candidates[0]!;
}

/**
 * The containers a selector names now, in a stable order (a list in its order, others by name):
 * a list's unknown reference is a 404, an ambiguous one a 409. Duplicates are dropped.
 */
export function selectMembers(selector: MemberSelector, containers: readonly ContainerInfo[]): ContainerInfo[] {
  const chosen =
    selector.kind === 'containers'
      ? selector.refs.map((ref) => findListed(containers, ref))
      : containers
          .filter((c) => matchesSelector(selector, c))
          .sort((a, b) => (containerName(a) < containerName(b) ? -1 : 1));
  const seen = new Set<string>();
  return chosen.filter((c) => !seen.has(c.id) && seen.add(c.id));
}
