import { useEffect, useReducer } from 'preact/hooks';
import type { LogSession } from '../log-session.js';

/** The footer: lines kept, matching, dropped, the cap, a merged stream's members. */
export function Counts({ session, matching }: { session: LogSession; matching: boolean }) {
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
