import { useMemo, useRef, useState } from 'preact/hooks';
import { visibleText } from '../download.js';
import { parseFilter, type LineMatcher } from '../filter.js';
import type { GatewayApi } from '../gateway-api.js';
import type { LogSession } from '../log-session.js';
import { logsPath, targetFileStem, targetLabel, type LogTarget } from '../log-target.js';
import { EMPTY_SELECTION, followOne, followProject, targetOf, toggle, type Selection } from '../selection.js';
import { ContainerList } from './container-list.js';
import { Counts } from './counts.js';
import { useEngineStatus, useFeed, useSession, useSlashFocuses } from './hooks.js';
import { LogPane } from './log-pane.js';
import { saveText } from './save-file.js';
import { Toolbar } from './toolbar.js';
import { TopBar } from './top-bar.js';

export interface AppProps {
  api: GatewayApi;
  /** Lines kept per stream, as first configured. */
  initialCap: number;
  onCap: (cap: number) => void;
  /** The gateway stopped accepting the token: back to the token prompt. */
  onUnauthorized: () => void;
}

function download(session: LogSession, timestamps: boolean): void {
  const text = visibleText(session.store, { timestamps, members: session.members });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  saveText(`${targetFileStem(session.target)}-${stamp}.log`, text);
}

function LogArea({
  session,
  matcher,
  showTime,
}: {
  session: LogSession | null;
  matcher: LineMatcher | null;
  showTime: boolean;
}) {
  if (session === null) {
    return (
      <div class="placeholder">
        <p>Pick a container to follow its log.</p>
        <p class="hint">
          Click a name to follow one container; tick several, or “Follow all” of a project, for one merged stream. Press{' '}
          <kbd>/</kbd> to filter.
        </p>
      </div>
    );
  }
  const label = `Log of ${targetLabel(session.target)}`;
  const key = logsPath(session.target, { tail: 0 });
  return <LogPane key={key} session={session} matcher={matcher} showTime={showTime} label={label} />;
}

/** The viewer once the gateway has accepted the token: the page's state, and its three parts. */
export function App({ api, initialCap, onCap, onUnauthorized }: AppProps) {
  const feed = useFeed(api, onUnauthorized);
  const [selection, setSelectionState] = useState<Selection>(EMPTY_SELECTION);
  // The target is fixed when chosen (a containerd namespace included): a later change of the
  // list, an engine switch above all, must not start another stream under the reader.
  const [target, setTarget] = useState<LogTarget | null>(null);
  const [search, setSearch] = useState('');
  const [filterText, setFilterText] = useState('');
  const [showTime, setShowTime] = useState(false);
  const [cap, setCap] = useState(initialCap);
  const filterInput = useRef<HTMLInputElement>(null);
  useSlashFocuses(filterInput);

  const directory = feed.directory;
  const select = (next: Selection) => {
    setSelectionState(next);
    setTarget(targetOf(next, (name) => directory.byName(name)?.namespace));
  };
  const session = useSession(api, target, cap, onUnauthorized);
  const engine = useEngineStatus(api, [feed.generation, session?.engineSwitches ?? 0]);
  const filter = useMemo(() => parseFilter(filterText), [filterText]);
  const matcher = filter.kind === 'ok' ? filter.matcher : null;
  if (session !== null && session.store.filter !== matcher) session.store.setFilter(matcher);

  return (
    <div class="viewer">
      <TopBar engine={engine} feed={feed.status} logs={session?.status ?? null} />
      <ContainerList
        groups={directory.groups(search)}
        synced={directory.synced}
        total={directory.size}
        selection={selection}
        search={search}
        onSearch={setSearch}
        onFollow={(name) => select(followOne(name))}
        onToggle={(name) => select(toggle(selection, name))}
        onFollowProject={(project, names) => select(followProject(project, names))}
      />
      <main class="main">
        <Toolbar
          title={target === null ? 'No container selected' : targetLabel(target)}
          filterText={filterText}
          filter={filter}
          onFilter={setFilterText}
          filterRef={filterInput}
          showTime={showTime}
          onShowTime={setShowTime}
          cap={cap}
          onCap={(next) => {
            setCap(next);
            onCap(next);
          }}
          onDownload={() => session !== null && download(session, showTime)}
          canDownload={session !== null}
        />
        <LogArea session={session} matcher={matcher} showTime={showTime} />
        <footer class="footer">{session !== null && <Counts session={session} matching={matcher !== null} />}</footer>
      </main>
    </div>
  );
}
