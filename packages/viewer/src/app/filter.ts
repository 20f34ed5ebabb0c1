/**
 * The log filter: plain text matches case-insensitively anywhere in a line; `/pattern/flags` is a
 * regular expression (JavaScript syntax, flags as given). Matching runs on a line's text without
 * its ANSI escapes, so what matches is what the reader sees.
 */
export interface LineMatcher {
  /** What was typed. */
  readonly source: string;
  test(text: string): boolean;
  /** The matched ranges, `[start, end)` in UTF-16 units, in order, not overlapping, none empty. */
  ranges(text: string): Array<[number, number]>;
}

export type ParsedFilter =
  { kind: 'none' } | { kind: 'ok'; matcher: LineMatcher } | { kind: 'invalid'; message: string };

const REGEX_INPUT = /^\/(.+)\/([a-z]*)$/s;

/** At most this many highlighted ranges per line: a pattern like /./ must not build a span per character of a 64 KiB line. */
const MAX_RANGES = 200;

export function parseFilter(input: string): ParsedFilter {
  if (input === '') return { kind: 'none' };
  const regex = REGEX_INPUT.exec(input);
  if (regex) {
    const [, pattern, flags] = regex;
    let test: RegExp;
    let global: RegExp;
    try {
      // 'g' and 'y' make test() stateful; the matcher adds 'g' itself where it needs it.
      const plainFlags = flags!.replace(/[gy]/g, '');
      test = new RegExp(pattern!, plainFlags);
      global = new RegExp(pattern!, `${plainFlags}g`);
    } catch (err) {
      return { kind: 'invalid', message: (err as Error).message };
    }
    return { kind: 'ok', matcher: regexMatcher(input, test, global) };
  }
  return { kind: 'ok', matcher: textMatcher(input) };
}

function textMatcher(source: string): LineMatcher {
  const needle = source.toLowerCase();
  return {
    source,
    test: (text) => text.toLowerCase().includes(needle),
    ranges(text) {
      const haystack = text.toLowerCase();
      const found: Array<[number, number]> = [];
      // toLowerCase keeps UTF-16 lengths for all but a few characters (İ); ranges stay close enough to mark.
      for (let at = haystack.indexOf(needle); at !== -1 && found.length < MAX_RANGES;) {
        found.push([at, at + needle.length]);
        at = haystack.indexOf(needle, at + needle.length);
      }
      return found;
    },
  };
}

function regexMatcher(source: string, test: RegExp, global: RegExp): LineMatcher {
  return {
    source,
    test: (text) => test.test(text),
    ranges(text) {
      const found: Array<[number, number]> = [];
      global.lastIndex = 0;
      for (let match = global.exec(text); match !== null && found.length < MAX_RANGES; match = global.exec(text)) {
        if (match[0].length === 0) {
          global.lastIndex++; // an empty match (/x*/) highlights nothing and must not loop
          continue;
        }
        found.push([match.index, match.index + match[0].length]);
      }
      return found;
    },
  };
}
