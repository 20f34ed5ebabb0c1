import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from '@tanstack/virtual-core';
import type { RefObject } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import type { LineMatcher } from '../filter.js';
import type { LineStore } from '../line-store.js';
import type { LogSession } from '../log-session.js';
import { DroppedRow, LogRow } from './log-row.js';

/** Must match `--row-height` in styles/theme.css: every row is one line of this height (no wrapping), so the list needs no measuring. */
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

/** A TanStack virtualizer of fixed-height rows over `scroller`, one per session, kept at `count`. */
function useRowVirtualizer(scroller: RefObject<HTMLDivElement | null>, count: number, session: LogSession) {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
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
  return virtualizer;
}

/**
 * Following the end: while the reader is at the end, every render scrolls to it; scrolling up
 * pauses that (and rows dropped at the top then move the view up with them, so what is read
 * stays put); jumpToEnd() resumes. A new filter is a new list: it follows its end again.
 */
function useFollowEnd(scroller: RefObject<HTMLDivElement | null>, store: LineStore, matcher: LineMatcher | null) {
  const [following, setFollowing] = useState(true);
  const followingRef = useRef(true);
  const seenAtPause = useRef(0);
  const shiftedBefore = useRef(0);
  /** Where the last scroll to the end left the view; null until there was one (or for a new list). */
  const scrolledToEndAt = useRef<number | null>(null);
  const follow = (on: boolean) => {
    followingRef.current = on;
    setFollowing(on);
    if (!on) seenAtPause.current = store.visibleCount + store.shiftedOut;
  };
  const scrollToEnd = (element: HTMLDivElement) => {
    element.scrollTop = element.scrollHeight;
    scrolledToEndAt.current = element.scrollTop;
  };

  useLayoutEffect(() => {
    follow(true);
    shiftedBefore.current = store.shiftedOut;
    scrolledToEndAt.current = null;
  }, [matcher, store]);

  useLayoutEffect(() => {
    const element = scroller.current;
    if (element === null) return;
    const shifted = store.shiftedOut - shiftedBefore.current;
    shiftedBefore.current = store.shiftedOut;
    if (followingRef.current) {
      // The reader scrolled up since the last scroll to the end, and its scroll event comes only
      // with the next frame: that is a pause, which this render must not undo. (A list that
      // shrank moves the view up by itself: the end it can reach now is where it is.)
      const last = scrolledToEndAt.current;
      const reachable = element.scrollHeight - element.clientHeight;
      if (last !== null && element.scrollTop < Math.min(last, reachable) - END_SLACK) follow(false);
      else scrollToEnd(element);
    } else if (shifted > 0) element.scrollTop = Math.max(0, element.scrollTop - shifted * ROW_HEIGHT);
  });

  const onScroll = () => {
    const element = scroller.current;
    if (element === null) return;
    const atEnd = element.scrollTop + element.clientHeight >= element.scrollHeight - END_SLACK;
    if (atEnd !== followingRef.current) follow(atEnd);
  };

  const jumpToEnd = () => {
    follow(true);
    const element = scroller.current;
    if (element === null) return;
    scrollToEnd(element);
    element.focus({ preventScroll: true });
  };

  const newSincePause = following ? 0 : store.visibleCount + store.shiftedOut - seenAtPause.current;
  return { following, onScroll, jumpToEnd, newSincePause };
}

/**
 * The log: a virtualised list of fixed-height rows inside the `role="log"` scroller (live updates
 * are announced by nothing: aria-live is off, a busy log would drown a screen reader), with the
 * "Jump to end" button while the autoscroll is paused.
 */
export function LogPane({ session, matcher, showTime, label }: LogPaneProps) {
  useSessionVersion(session);
  const scroller = useRef<HTMLDivElement>(null);
  const { store, members } = session;
  const dropped = store.dropped;
  const offset = dropped > 0 ? 1 : 0; // the "N older lines dropped" row
  const count = store.visibleCount + offset;
  const virtualizer = useRowVirtualizer(scroller, count, session);
  const { following, onScroll, jumpToEnd, newSincePause } = useFollowEnd(scroller, store, matcher);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'End' || event.ctrlKey) return;
    event.preventDefault();
    jumpToEnd();
  };
  const nameWidth = Math.max(0, ...members.map((m) => m.name.length));

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
        <div class="log-rows" style={{ height: `${virtualizer.getTotalSize()}px` }}>
          {virtualizer.getVirtualItems().map((item) => {
            if (item.index < offset)
              return <DroppedRow key="dropped" dropped={dropped} cap={store.cap} top={item.start} />;
            const entry = store.visibleAt(item.index - offset);
            if (entry === undefined) return null;
            const member = entry.member >= 0 ? members[entry.member] : undefined;
            return <LogRow key={entry.seq} {...{ entry, member, nameWidth, showTime, matcher }} top={item.start} />;
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
