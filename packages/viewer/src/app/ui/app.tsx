import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { visibleText } from '../download.js';
import { EventsFeed } from '../events-feed.js';
import { parseFilter } from '../filter.js';
import type { GatewayApi } from '../gateway-api.js';
import { LogSession } from '../log-session.js';
import { logsPath, targetFileStem, targetLabel, type LogTarget } from '../log-target.js';
import type { SocketStatus } from '../reconnecting-socket.js';
import { EMPTY_SELECTION, followOne, followProject, targetOf, toggle, type Selection } from '../selection.js';
import { ContainerList } from './container-list.js';
import { LogPane } from './log-pane.js';
import { saveText } from './save-file.js';
import { Toolbar } from './toolbar.js';

const ENGINE_REFRESH_MS = 5000;

export interface EngineStatus {
  name: string | null;
  state: string;
}

export interface AppProps {
  api: GatewayApi;
  /** Lines kept per stream, as first configured. */
  initialCap: number;
  onCap: (cap: number) => void;
  /** The gateway stopped accepting the token: back to the token prompt. */
  onUnauthorized: () => void;
}

function useFeed(api: GatewayApi): EventsFeed {
  const feed = useMemo(() => new EventsFeed(api), [api]);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const unsubscribe = feed.subscribe(() => bump(undefined));
    feed.start();
    return () => {
      unsubscribe();
      feed.stop();
    };
  }, [feed]);
  return feed;
}

function StatusDot({ label, status }: { label: string; status: SocketStatus }) {
  return (
    <span class={`status status-${status.phase}`} title={status.detail}>
      <span class="dot" aria-hidden="true" />
      {label}: {status.phase === 'live' ? 'live' : status.detail}
    </span>
  );
}

/** The viewer once the gateway has accepted the token: container list, toolbar, log pane. */
export function App({ api, initialCap, onCap, onUnauthorized }: AppProps) {
  const feed = useFeed(api);
  const [engine, setEngine] = useState<EngineStatus | null>(null);
  const [selection, setSelectionState] = useState<Selection>(EMPTY_SELECTION);
  // The target is fixed when chosen (a containerd namespace included): a later change of the
  // list, an engine switch above all, must not start another stream under the reader.
  const [target, setTarget] = useState<LogTarget | null>(null);
  const [search, setSearch] = useState('');
  const [filterText, setFilterText] = useState('');
  const [showTime, setShowTime] = useState(false);
  const [cap, setCap] = useState(initialCap);
  const filterInput = useRef<HTMLInputElement>(null);
  const [, bump] = useReducer((n: number) => n + 1, 0);

  useEffect(() => {
    if (feed.failure?.status === 401) onUnauthorized();
  });

  const directory = feed.directory;
  const setSelection = (next: Selection) => {
    setSelectionState(next);
    setTarget(targetOf(next, (name) => directory.byName(name)?.namespace));
  };
  const targetKey = target === null ? null : logsPath(target, { tail: 0 });
  const session = useMemo(
    () => (target === null ? null : new LogSession({ api, target, cap })),
    // A session per target; the cap applies to the running one through setCap below.
    [api, targetKey],
  );
  useEffect(() => {
    if (session === null) return;
    // The top bar shows the connection's state: render when it changes (the pane renders the lines).
    let shown = session.status;
    const unsubscribe = session.subscribe(() => {
      if (session.failure?.status === 401) onUnauthorized();
      if (session.status !== shown) {
        shown = session.status;
        bump(undefined);
      }
    });
    session.start();
    return () => {
      unsubscribe();
      session.stop();
    };
  }, [session]);
  if (session !== null && session.store.cap !== cap) session.store.setCap(cap);

  // The engine's name and state: at start, whenever a stream comes back after an engine switch,
  // and every few seconds (a switch while nothing is followed, an engine that comes up later).
  const engineSwitches = session?.engineSwitches ?? 0;
  useEffect(() => {
    const refresh = () => api.getJson<EngineStatus>('/engine').then(setEngine, () => setEngine(null));
    void refresh();
    const timer = setInterval(() => void refresh(), ENGINE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [api, feed.generation, engineSwitches]);

  const filter = useMemo(() => parseFilter(filterText), [filterText]);
  const matcher = filter.kind === 'ok' ? filter.matcher : null;
  if (session !== null && session.store.filter !== matcher) session.store.setFilter(matcher);

  // "/" anywhere but in a text field goes to the filter, as in most log viewers.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const inField = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
      if (event.key === '/' && !inField && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        filterInput.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const download = () => {
    if (session === null) return;
    const text = visibleText(session.store, { timestamps: showTime, members: session.members });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    saveText(`${targetFileStem(session.target)}-${stamp}.log`, text);
  };

  const groups = directory.groups(search);
  return (
    <div class="viewer">
      <header class="topbar">
        <h1 class="brand">
          <img src="/viewer/icon.svg" alt="" width="22" height="22" /> enginegate
        </h1>
        <span class="engine" title="the active engine">
          engine <strong>{engine?.name ?? 'none'}</strong>
          <span class={`state state-${engine?.state ?? 'unknown'}`}>{engine?.state ?? 'unknown'}</span>
        </span>
        <span class="spacer" />
        <StatusDot label="containers" status={feed.status} />
        {session !== null && <StatusDot label="logs" status={session.status} />}
      </header>
      <ContainerList
        groups={groups}
        synced={directory.synced}
        total={directory.size}
        selection={selection}
        search={search}
        onSearch={setSearch}
        onFollow={(name) => setSelection(followOne(name))}
        onToggle={(name) => setSelection(toggle(selection, name))}
        onFollowProject={(project, names) => setSelection(followProject(project, names))}
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
          onDownload={download}
          canDownload={session !== null}
        />
        {session === null ? (
          <div class="placeholder">
            <p>Pick a container to follow its log.</p>
            <p class="hint">
              Click a name to follow one container; tick several, or “Follow all” of a project, for one merged stream.
              Press <kbd>/</kbd> to filter.
            </p>
          </div>
        ) : (
          <LogPane
            key={targetKey}
            session={session}
            matcher={matcher}
            showTime={showTime}
            label={`Log of ${targetLabel(session.target)}`}
          />
        )}
        <footer class="footer">{session !== null && <Counts session={session} matching={matcher !== null} />}</footer>
      </main>
    </div>
  );
}

function Counts({ session, matching }: { session: LogSession; matching: boolean }) {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Counts change with every line; a few updates a second are plenty for a footer.
    const unsubscribe = session.subscribe(() => {
      timer ??= setTimeout(() => {
        timer = undefined;
        bump(undefined);
      }, 250);
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }, [session]);
  const { store } = session;
  const parts = [`${store.size.toLocaleString('en')} lines`];
  if (matching) parts.push(`${store.visibleCount.toLocaleString('en')} matching`);
  if (store.dropped > 0) parts.push(`${store.dropped.toLocaleString('en')} older dropped`);
  parts.push(`keeping at most ${store.cap.toLocaleString('en')}`);
  if (session.merged)
    parts.push(`${session.members.length} containers: ${session.members.map((m) => m.name).join(', ')}`);
  return <span>{parts.join(' · ')}</span>;
}
