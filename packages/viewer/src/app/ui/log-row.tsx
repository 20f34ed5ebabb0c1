import type { ComponentChildren, CSSProperties } from 'preact';
import { ansiSegments, type AnsiSegment } from '../ansi.js';
import type { LineMatcher } from '../filter.js';
import type { LogEntry } from '../line-store.js';
import type { Member } from '../log-session.js';

/** A row shows at most this much of a line (a download has all of it): a 100 KiB line would make the pane a kilometre wide. */
export const MAX_SHOWN_CHARS = 4000;

const segmentCache = new WeakMap<LogEntry, AnsiSegment[]>();

function segmentsOf(entry: LogEntry): AnsiSegment[] {
  if (entry.kind === 'marker') return [{ text: entry.plain, classes: '' }];
  let segments = segmentCache.get(entry);
  if (segments === undefined) segmentCache.set(entry, (segments = ansiSegments(entry.text)));
  return segments;
}

function styleOf(segment: AnsiSegment): CSSProperties | undefined {
  if (segment.color === undefined && segment.background === undefined) return undefined;
  const style: CSSProperties = {};
  if (segment.color !== undefined) style.color = segment.color;
  if (segment.background !== undefined) style.backgroundColor = segment.background;
  return style; // applied through the CSSOM by preact: no style attribute for the CSP to refuse
}

/** The runs of one line, with the filter's matches wrapped in <mark>. */
function lineContent(entry: LogEntry, matcher: LineMatcher | null): ComponentChildren[] {
  const ranges = matcher === null ? [] : matcher.ranges(entry.plain);
  const out: ComponentChildren[] = [];
  let at = 0; // position in the plain text
  let range = 0;
  for (const segment of segmentsOf(entry)) {
    const end = Math.min(at + segment.text.length, MAX_SHOWN_CHARS);
    const pieces: ComponentChildren[] = [];
    let from = at;
    while (from < end) {
      const current = ranges[range];
      if (current === undefined || current[0] >= end) {
        pieces.push(segment.text.slice(from - at, end - at));
        break;
      }
      if (current[0] > from) {
        pieces.push(segment.text.slice(from - at, current[0] - at));
        from = current[0];
      }
      const markEnd = Math.min(current[1], end);
      pieces.push(<mark>{segment.text.slice(from - at, markEnd - at)}</mark>);
      from = markEnd;
      if (current[1] <= end) range++;
    }
    out.push(
      segment.classes === '' && styleOf(segment) === undefined ? (
        pieces
      ) : (
        <span class={segment.classes} style={styleOf(segment)}>
          {pieces}
        </span>
      ),
    );
    at += segment.text.length;
    if (at >= MAX_SHOWN_CHARS) break;
  }
  if (entry.plain.length > MAX_SHOWN_CHARS) {
    const more = entry.plain.length - MAX_SHOWN_CHARS;
    out.push(<span class="cut"> … {more.toLocaleString('en')} more characters (the download has them)</span>);
  }
  return out;
}

/** `2024-01-02T15:04:05.123456789Z` → `2024-01-02 15:04:05.123` (UTC): the row's width stays fixed. */
export function shortTime(time: string): string {
  return `${time.slice(0, 10)} ${time.slice(11, 23)}`;
}

export interface LogRowProps {
  entry: LogEntry;
  top: number;
  member: Member | undefined;
  nameWidth: number;
  showTime: boolean;
  matcher: LineMatcher | null;
}

export function LogRow({ entry, top, member, nameWidth, showTime, matcher }: LogRowProps) {
  const classes = ['row', entry.kind];
  if (entry.stream !== null) classes.push(entry.stream);
  if (entry.marker !== null) classes.push(`marker-${entry.marker}`);
  return (
    <div
      class={classes.join(' ')}
      style={{ transform: `translateY(${top}px)` }}
      data-stream={entry.stream ?? undefined}
      title={entry.stream === 'stderr' ? 'stderr' : undefined}
    >
      {showTime && <span class="time">{entry.time === null ? ''.padEnd(23) : shortTime(entry.time)} </span>}
      {member !== undefined && entry.kind === 'line' && (
        <span class={`name name-c${member.colour}`}>
          {member.name.padEnd(nameWidth)}
          <span class="sep"> | </span>
        </span>
      )}
      <span class="text">{lineContent(entry, matcher)}</span>
    </div>
  );
}

/** The first row once lines were dropped: how many, and how many are kept. */
export function DroppedRow({ dropped, cap, top }: { dropped: number; cap: number; top: number }) {
  return (
    <div class="row marker marker-dropped" style={{ transform: `translateY(${top}px)` }}>
      <span class="text">
        {dropped.toLocaleString('en')} older lines dropped (this page keeps the last {cap.toLocaleString('en')})
      </span>
    </div>
  );
}
