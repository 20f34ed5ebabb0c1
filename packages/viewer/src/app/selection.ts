import type { LogTarget } from './log-target.js';

/**
 * What the list has selected: checked containers, or a whole Compose project (followed as
 * `project=`, so that members starting later join). Clicking a name follows that one container.
 */
export interface Selection {
  /** Checked names, in the order they were checked. */
  readonly names: readonly string[];
  /** Set when a whole project was chosen; `names` then lists its members at that moment. */
  readonly project: string | null;
}

export const EMPTY_SELECTION: Selection = { names: [], project: null };

export function followOne(name: string): Selection {
  return { names: [name], project: null };
}

export function followProject(project: string, members: readonly string[]): Selection {
  return { names: [...members], project };
}

/** Checking or unchecking one name; unchecking a member of a chosen project leaves the rest checked, as names. */
export function toggle(selection: Selection, name: string): Selection {
  const names = selection.names.includes(name) ? selection.names.filter((n) => n !== name) : [...selection.names, name];
  return { names, project: null };
}

export function targetOf(
  selection: Selection,
  namespaceOf: (name: string) => string | undefined = () => undefined,
): LogTarget | null {
  if (selection.project !== null) return { kind: 'project', project: selection.project };
  if (selection.names.length === 0) return null;
  if (selection.names.length === 1) {
    const name = selection.names[0]!;
    const namespace = namespaceOf(name);
    return namespace === undefined ? { kind: 'container', name } : { kind: 'container', name, namespace };
  }
  return { kind: 'containers', names: [...selection.names] };
}
