import type { RefObject } from 'preact';
import { useEffect, useMemo, useReducer, useState } from 'preact/hooks';
import { EventsFeed } from '../events-feed.js';
import type { GatewayApi } from '../gateway-api.js';
import { LogSession } from '../log-session.js';
import { logsPath, type LogTarget } from '../log-target.js';

const ENGINE_REFRESH_MS = 5000;

export interface EngineStatus {
  name: string | null;
  state: string;
}

function useRerender(): () => void {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  return () => bump(undefined);
}

/** The container list's feed for this gateway, started and stopped with the component; renders on every change. */
export function useFeed(api: GatewayApi, onUnauthorized: () => void): EventsFeed {
  const feed = useMemo(() => new EventsFeed(api), [api]);
  const rerender = useRerender();
  useEffect(() => {
    const unsubscribe = feed.subscribe(() => {
      if (feed.failure?.status === 401) onUnauthorized();
      rerender();
    });
    feed.start();
    return () => {
      unsubscribe();
      feed.stop();
    };
  }, [feed]);
  return feed;
}

/**
 * One LogSession per target, started and stopped with it. The caller renders when the
 * connection's state changes (the pane itself renders the lines); the cap applies to the
 * running session without a reconnect.
 */
export function useSession(
  api: GatewayApi,
  target: LogTarget | null,
  cap: number,
  onUnauthorized: () => void,
): LogSession | null {
  const targetKey = target === null ? null : logsPath(target, { tail: 0 });
  const session = useMemo(() => (target === null ? null : new LogSession({ api, target, cap })), [api, targetKey]);
  const rerender = useRerender();
  useEffect(() => {
    if (session === null) return;
    let shown = session.status;
    const unsubscribe = session.subscribe(() => {
      if (session.failure?.status === 401) onUnauthorized();
      if (session.status !== shown) {
        shown = session.status;
        rerender();
      }
    });
    session.start();
    return () => {
      unsubscribe();
      session.stop();
    };
  }, [session]);
  if (session !== null && session.store.cap !== cap) session.store.setCap(cap);
  return session;
}

/**
 * The engine's name and state: at start, whenever `refreshOn` changes (the events stream or a log
 * stream came back after a switch), and every few seconds (a switch while nothing is followed).
 */
export function useEngineStatus(api: GatewayApi, refreshOn: readonly unknown[]): EngineStatus | null {
  const [engine, setEngine] = useState<EngineStatus | null>(null);
  useEffect(() => {
    let live = true;
    const refresh = () =>
      api.getJson<EngineStatus>('/engine').then(
        (status) => live && setEngine(status),
        () => undefined, // the connection states say what is wrong
      );
    void refresh();
    const timer = setInterval(() => void refresh(), ENGINE_REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, ...refreshOn]);
  return engine;
}

/** "/" anywhere but in a text field focuses `input`, as in most log viewers. */
export function useSlashFocuses(input: RefObject<HTMLInputElement | null>): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const inField = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
      if (event.key === '/' && !inField && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        input.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
