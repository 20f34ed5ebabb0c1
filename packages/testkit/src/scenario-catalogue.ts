import type { CapabilityName } from './conformance-target.js';

export interface ScenarioInfo {
  /** Stable: reports, docs tables and `only` refer to scenarios by this name. */
  name: string;
  /** One line, for the docs table. */
  checks: string;
  /** Capabilities the scenario needs; it is skipped when the engine lacks one. */
  needs: CapabilityName[];
}

/** Every scenario of the suite, in the order it runs (`stopped-503` restarts the engine, so it is last). */
export const SCENARIOS: readonly ScenarioInfo[] = [
  { name: 'tail', checks: '`tail=N|all|0` gives the last N lines, followed or not', needs: [] },
  {
    name: 'since-until',
    checks: '`since`/`until` are inclusive, in RFC3339Nano, Unix seconds and durations; `until` ends a followed stream',
    needs: ['times'],
  },
  {
    name: 'timestamps',
    checks: '`timestamps=true` prefixes each line with its fixed-width time (text, raw, HTTP)',
    needs: ['times'],
  },
  {
    name: 'stream-separation',
    checks: 'stdout and stderr keep their streams; `stdout=false` / `stderr=false` select',
    needs: ['stderr'],
  },
  { name: 'tty-merged', checks: "a TTY container's output arrives whole, on stdout", needs: ['tty'] },
  {
    name: 'whole-100k-line',
    checks: 'a 100 KiB line arrives as one line; raw cuts only at UTF-8 boundaries',
    needs: [],
  },
  {
    name: 'exact-bytes',
    checks: 'NUL, CR, tabs, ANSI escapes, emoji and empty lines arrive byte for byte in every framing',
    needs: [],
  },
  {
    name: 'non-utf8-bytes',
    checks: 'bytes that are not UTF-8 arrive exact (binary, raw, JSON `base64`) or as U+FFFD (text)',
    needs: ['binarySafe'],
  },
  {
    name: 'live-delivery',
    checks: 'followed lines arrive as they are written (WebSocket and HTTP), not at the end',
    needs: ['exits'],
  },
  {
    name: 'exit-record',
    checks: 'a followed container that exits sends its lines, an `exit` record with the code, then 1000',
    needs: ['exits', 'exitCode'],
  },
  {
    name: 'cursor-resume',
    checks: '`after=<cursor>` resumes exactly behind a record: no line repeated, none skipped',
    needs: ['exits'],
  },
  {
    name: 'abort-releases',
    checks: 'aborting `open()` or a client leaving releases the engine stream at once',
    needs: [],
  },
  {
    name: 'not-found-404',
    checks: 'an unknown or removed container is a 404 `CONTAINER_NOT_FOUND` (HTTP and upgrade)',
    needs: [],
  },
  {
    name: 'ambiguous-409',
    checks: 'a unique ID prefix resolves; a shared one is a 409 `AMBIGUOUS_CONTAINER`',
    needs: ['idPrefix'],
  },
  { name: 'bad-ref-400', checks: 'malformed references are a 400 before the engine is asked', needs: [] },
  {
    name: 'bad-params-400',
    checks: 'malformed parameters and subprotocol offers are a 400 naming the parameter',
    needs: [],
  },
  {
    name: 'errors-by-code',
    checks:
      "the engine's own errors are plugin-api's, recognised by brand and code (a plugin's own copy of plugin-api too)",
    needs: [],
  },
  { name: 'framings-agree', checks: 'raw, text, JSON and binary WebSocket framings carry the same lines', needs: [] },
  { name: 'http-agrees', checks: 'plain HTTP (text/plain and NDJSON) carries what the WebSocket carries', needs: [] },
  {
    name: 'events-present',
    checks: 'the events stream lists each existing container as `present` (with its labels), then one `synced`',
    needs: [],
  },
  {
    name: 'events-lifecycle',
    checks:
      'a container created, started, exiting and removed is `create`, `start`, `die`, `destroy` in order, each within 3 s',
    needs: ['exits'],
  },
  {
    name: 'merged-time-order',
    checks: 'a merged history of three containers is in time order, each keeping its own lines and order',
    needs: ['times'],
  },
  {
    name: 'merged-join-leave',
    checks:
      'a container started later joins a selector stream within 3 s and leaves with its exit code; a `container=` list ends (1000) when all exited',
    needs: ['exits', 'exitCode'],
  },
  {
    name: 'merged-cursor-resume',
    checks: '`after=<merged cursor>` resumes every member exactly: no line twice, none missing',
    needs: ['exits'],
  },
  { name: 'merged-tail', checks: '`tail=N` on a merged stream is per container', needs: [] },
  {
    name: 'stopped-503',
    checks: 'a stopped engine is a 503 with `Retry-After`, open streams end (1012), and it serves again once started',
    needs: [],
  },
];
