import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from '@tanstack/virtual-core';
import { useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { LineMatcher } from '../filter.js';
import type { LogSession } from '../log-session.js';
import { DroppedRow, LogRow } from './log-row.js';

/** Must match `--row-height` in viewer.css: every row is one line of this height (no wrapping), so the list needs no measuring. */
export const ROW_HEIGHT = 20;
/** Rows rendered above and below the visible ones. */
const OVERSCAN = 25;
/** Within this many pixels of the end counts as at the end (and keeps following). */
const END_SLACK = ROW_HEIGHT;

export interface LogPaneProps {
  session: LogSession;
  matcher: LineMatcher | null;
  showTime: boolean;
  label: string;
}

/** Coalesces a session's changes (one per record) into at most one render per animation frame. */
function useSessionVersion(session: LogSession): number {
  const [version, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    let frame = 0;
    const unsubscribe = session.subscribe(() => {
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          bump(undefined);
        });
    });
    return () => {
      unsubscribe();
      cancelAnimationFrame(frame);
    };
  }, [session]);
  return version;
}

/**
 * The log: a virtualised list (TanStack Virtual) of fixed-height rows inside the `role="log"`
 * scroller. It follows the end while the reader is there; scrolling up pauses that (the rows
 * stay put even as old ones are dropped) and "Jump to end" resumes it.
 */
export function LogPane({ session, matcher, showTime, label }: LogPaneProps) {
  useSessionVersion(session);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const scroller = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);
  const followingRef = useRef(true);
  const seenAtPause = useRef(0);
  const shiftedBefore = useRef(0);

  const { store } = session;
  const dropped = store.dropped;
  const offset = dropped > 0 ? 1 : 0; // the "N older lines dropped" row
  const count = store.visibleCount + offset;

  const virtualizer = useMemo(
    () =>
      new Virtualizer<HTMLDivElement, HTMLDivElement>({
        count,
        getScrollElement: () => scroller.current,
        estimateSize: () => ROW_HEIGHT,
        overscan: OVERSCAN,
        observeElementRect,
        observeElementOffset,
        scrollToFn: elementScroll,
        onChange: () => rerender(undefined),
      }),
    // One virtualizer per session (`count` is only its first value): a new target is a new list.
    [session],
  );
  virtualizer.setOptions({ ...virtualizer.options, count });
  useLayoutEffect(() => virtualizer._didMount(), [virtualizer]);
  useLayoutEffect(() => virtualizer._willUpdate());

  // The filter changed: a different list; follow its end again.
  useLayoutEffect(() => {
    followingRef.current = true;
    setFollowing(true);
    shiftedBefore.current = store.shiftedOut;
  }, [matcher, session, store]);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (element === null) return;
    const shifted = store.shiftedOut - shiftedBefore.current;
    shiftedBefore.current = store.shiftedOut;
    if (followingRef.current) {
      element.scrollTop = element.scrollHeight;
    } else if (shifted > 0) {
      // Old rows left the top: move up with them so the rows being read stay where they are.
      element.scrollTop = Math.max(0, element.scrollTop - shifted * ROW_HEIGHT);
    }
  });

  const onScroll = () => {
    const element = scroller.current;
    if (element === null) return;
    const atEnd = element.scrollTop + element.clientHeight >= element.scrollHeight - END_SLACK;
    if (atEnd !== followingRef.current) {
      followingRef.current = atEnd;
      setFollowing(atEnd);
      if (!atEnd) seenAtPause.current = store.visibleCount + store.shiftedOut;
    }
  };

  const jumpToEnd = () => {
    followingRef.current = true;
    setFollowing(true);
    const element = scroller.current;
    if (element !== null) element.scrollTop = element.scrollHeight;
    element?.focus({ preventScroll: true });
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'End' && !event.ctrlKey) {
      event.preventDefault();
      jumpToEnd();
    }
  };

  const members = session.members;
  const nameWidth = Math.max(0, ...members.map((m) => m.name.length));
  const newSincePause = following ? 0 : store.visibleCount + store.shiftedOut - seenAtPause.current;

  return (
    <div class="log-frame">
      <div
        ref={scroller}
        class="log-scroller"
        role="log"
        aria-label={label}
        aria-live="off"
        tabIndex={0}
        onScroll={onScroll}
        onKeyDown={onKeyDown}
      >
        <div class={`log-rows${showTime ? ' with-time' : ''}`} style={{ height: `${virtualizer.getTotalSize()}px` }}>
          {virtualizer.getVirtualItems().map((item) => {
            if (item.index < offset) {
              return <DroppedRow key="dropped" dropped={dropped} cap={store.cap} top={item.start} />;
            }
            const entry = store.visibleAt(item.index - offset);
            if (entry === undefined) return null;
            return (
              <LogRow
                key={entry.seq}
                entry={entry}
                top={item.start}
                member={entry.member >= 0 ? members[entry.member] : undefined}
                nameWidth={nameWidth}
                showTime={showTime}
                matcher={matcher}
              />
            );
          })}
        </div>
      </div>
      {count === 0 && <div class="log-empty">{matcher === null ? 'No lines yet.' : 'No line matches the filter.'}</div>}
      {!following && (
        <button type="button" class="jump-to-end" onClick={jumpToEnd}>
          ↓ Jump to end{newSincePause > 0 ? ` (${newSincePause.toLocaleString('en')} new)` : ''}
        </button>
      )}
    </div>
  );
}
