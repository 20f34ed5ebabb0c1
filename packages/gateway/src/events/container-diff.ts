import type { ContainerAction, ContainerEvent, ContainerInfo, UnixNanos } from '@enginegate/plugin-api';

/** Engine words for a container whose process has ended. */
const ENDED_STATES = new Set(['exited', 'dead', 'stopped']);

/** The event a change of state from `before` to `after` is, or null when the state is the same. */
function stateAction(before: string, after: string): ContainerAction | null {
  if (before === after) return null;
  if (after === 'running') return 'start';
  if (ENDED_STATES.has(after)) return 'die';
  return 'update';
}

const sameNames = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((name, i) => name === b[i]);

/**
 * What happened between two listings of an engine's containers, as events: a new container is
 * `create` (then `start` or `die` when the listing already shows it running or ended), a
 * changed state is `start`, `die` or `update`, changed names `rename`, a container no longer
 * listed `destroy` (state 'removed'). Exit codes are not in a listing.
 */
export function diffContainers(
  before: ReadonlyMap<string, ContainerInfo>,
  after: readonly ContainerInfo[],
  time: UnixNanos,
): ContainerEvent[] {
  const events: ContainerEvent[] = [];
  const seen = new Set<string>();
  for (const container of after) {
    seen.add(container.id);
    const previous = before.get(container.id);
    if (previous === undefined) {
      events.push({ action: 'create', container, time });
      const action = stateAction('created', container.state);
      if (action !== null && action !== 'update') events.push({ action, container, time });
      continue;
    }
    if (!sameNames(previous.names, container.names)) events.push({ action: 'rename', container, time });
    const action = stateAction(previous.state, container.state);
    if (action !== null) events.push({ action, container, time });
  }
  for (const [id, container] of before) {
    if (!seen.has(id)) events.push({ action: 'destroy', container: { ...container, state: 'removed' }, time });
  }
  return events;
}
