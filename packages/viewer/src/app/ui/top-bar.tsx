import type { SocketStatus } from '../reconnecting-socket.js';
import type { EngineStatus } from './hooks.js';

function StatusDot({ label, status }: { label: string; status: SocketStatus }) {
  return (
    <span class={`status status-${status.phase}`} title={status.detail}>
      <span class="dot" aria-hidden="true" />
      {label}: {status.phase === 'live' ? 'live' : status.detail}
    </span>
  );
}

/** The brand, the active engine and its state, and the state of both connections. */
export function TopBar(props: { engine: EngineStatus | null; feed: SocketStatus; logs: SocketStatus | null }) {
  const { engine } = props;
  return (
    <header class="topbar">
      <h1 class="brand">
        <img src="/viewer/icon.svg" alt="" width="22" height="22" /> enginegate
      </h1>
      <span class="engine" title="the active engine">
        engine <strong>{engine?.name ?? 'none'}</strong>
        <span class={`state state-${engine?.state ?? 'unknown'}`}>{engine?.state ?? 'unknown'}</span>
      </span>
      <span class="spacer" />
      <StatusDot label="containers" status={props.feed} />
      {props.logs !== null && <StatusDot label="logs" status={props.logs} />}
    </header>
  );
}
