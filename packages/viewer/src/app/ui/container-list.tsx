import type { ContainerGroup, ContainerInfo } from '../container-directory.js';
import { displayName } from '../container-directory.js';
import type { Selection } from '../selection.js';

export interface ContainerListProps {
  groups: ContainerGroup[];
  /** False until the events stream has listed every container. */
  synced: boolean;
  total: number;
  selection: Selection;
  search: string;
  onSearch: (search: string) => void;
  onFollow: (name: string) => void;
  onToggle: (name: string) => void;
  onFollowProject: (project: string, names: string[]) => void;
}

function stateClass(state: string): string {
  return `state state-${/^[a-z]+$/.test(state) ? state : 'other'}`;
}

function ContainerRow(props: {
  container: ContainerInfo;
  checked: boolean;
  followedAlone: boolean;
  onFollow: (name: string) => void;
  onToggle: (name: string) => void;
}) {
  const { container, checked, followedAlone } = props;
  const name = displayName(container);
  return (
    <li aria-label={name} class={`container${checked ? ' selected' : ''}`}>
      <input
        type="checkbox"
        class="select"
        aria-label={`Select ${name} for a merged stream`}
        checked={checked}
        onChange={() => props.onToggle(name)}
      />
      <button
        type="button"
        class="container-button"
        aria-current={followedAlone ? 'true' : undefined}
        aria-label={`Follow ${name}`}
        title={`Follow ${name} (${container.image})`}
        onClick={() => props.onFollow(name)}
      >
        <span class="container-name">{name}</span>
        <span class="container-image">{container.image}</span>
      </button>
      <span class={stateClass(container.state)}>{container.state}</span>
    </li>
  );
}

interface GroupProps {
  group: ContainerGroup;
  selection: Selection;
  selected: ReadonlySet<string>;
  /** The one container followed alone, if any. */
  alone: string | undefined;
  onFollow: (name: string) => void;
  onToggle: (name: string) => void;
  onFollowProject: (project: string, names: string[]) => void;
}

/** A Compose project (with "Follow all") or the containers of none. */
function GroupSection({ group, selection, selected, alone, onFollow, onToggle, onFollowProject }: GroupProps) {
  const { project } = group;
  const names = group.containers.map(displayName);
  return (
    <section class="group">
      <header class="group-head">
        <h2 class="group-title">
          {project !== null && <span class="group-kind">project </span>}
          {project ?? 'Containers'}
          <span class="group-count">{group.containers.length}</span>
        </h2>
        {project !== null && (
          <button
            type="button"
            class="follow-project"
            aria-pressed={selection.project === project}
            aria-label={`Follow project ${project}`}
            title={`One merged stream of project ${project}; containers that start later join it`}
            onClick={() => onFollowProject(project, names)}
          >
            Follow all
          </button>
        )}
      </header>
      <ul class="containers" aria-label={project !== null ? `Project ${project}` : 'Containers'}>
        {group.containers.map((container) => (
          <ContainerRow
            key={container.id}
            container={container}
            checked={selected.has(displayName(container))}
            followedAlone={alone === displayName(container)}
            onFollow={onFollow}
            onToggle={onToggle}
          />
        ))}
      </ul>
    </section>
  );
}

/** The containers, grouped by Compose project; checkboxes pick several for one merged stream. */
export function ContainerList(props: ContainerListProps) {
  const { groups, selection, synced, total } = props;
  const selected = new Set(selection.names);
  const alone = selection.project === null && selection.names.length === 1 ? selection.names[0] : undefined;
  let empty: string | null = null;
  if (!synced) empty = 'Loading containers…';
  else if (total === 0) empty = 'The engine has no containers.';
  else if (groups.length === 0) empty = 'No container matches the search.';

  return (
    <nav class="sidebar" aria-label="Containers">
      <input
        type="search"
        class="container-search"
        aria-label="Search containers"
        placeholder="Search containers"
        value={props.search}
        onInput={(event) => props.onSearch(event.currentTarget.value)}
      />
      {empty !== null && <p class="sidebar-empty">{empty}</p>}
      {groups.map((group) => (
        <GroupSection
          key={group.project ?? ''}
          group={group}
          selection={selection}
          selected={selected}
          alone={alone}
          onFollow={props.onFollow}
          onToggle={props.onToggle}
          onFollowProject={props.onFollowProject}
        />
      ))}
    </nav>
  );
}
