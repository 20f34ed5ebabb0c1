// Collects the failed tests of a tap run from its TAP output, so that the end of a long run
// (all a CI page may show) names what failed and why, not only how many.

const SUBTEST = /^( *)# Subtest: (.*)$/;
const NOT_OK = /^( *)not ok \d+ - (.*)$/;
const DIRECTIVE = / # (TODO|SKIP)\b/;
const TIME = / # time=[\d.]+m?s$/;
const DIAGNOSTIC_LINES = 14;
/** YAML keys of a failure that repeat what `at` says, at length */
const LEFT_OUT = new Set(['stack', 'source', 'typeName', 'columnNumber']);
const KEY = /^( *)([A-Za-z]+):/;

/**
 * Feed it the output as it comes (`push`), then `failures()` gives each failed leaf test as
 * `{ path: [file, subtest, ..., assertion], details: [YAML lines] }`. A failed subtest whose
 * failure is told by a failed test inside it is not listed again; todo and skip are not failures.
 */
export class TapFailureCollector {
  #partial = '';
  /** the names of the open subtests, by depth (4 spaces of indent a level) */
  #open = [];
  #found = [];
  /** the failure whose YAML block is being read, that block's indent, and a key's indent left out */
  #reading = null;

  push(chunk) {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) this.#line(line);
  }

  failures() {
    if (this.#partial) this.#line(this.#partial);
    this.#partial = '';
    const key = (f) => f.path.join('\u0000');
    return this.#found.filter((f) => !this.#found.some((o) => o !== f && key(o).startsWith(`${key(f)}\u0000`)));
  }

  #line(line) {
    if (this.#reading) {
      const { failure, indent } = this.#reading;
      if (line.startsWith(`${indent}---`) || line.trim() === '') return;
      if (line.startsWith(`${indent}...`) || !line.startsWith(indent)) this.#reading = null;
      else {
        const text = line.slice(indent.length);
        const depth = text.length - text.trimStart().length;
        const skipping = this.#reading.skipDeeperThan;
        if (skipping !== undefined && depth > skipping) return;
        this.#reading.skipDeeperThan = undefined;
        const key = KEY.exec(text);
        if (key && LEFT_OUT.has(key[2])) this.#reading.skipDeeperThan = depth;
        else if (failure.details.length < DIAGNOSTIC_LINES) failure.details.push(text);
        return;
      }
    }
    const subtest = SUBTEST.exec(line);
    if (subtest) {
      const depth = subtest[1].length / 4;
      this.#open.length = depth;
      this.#open[depth] = subtest[2];
      return;
    }
    const notOk = NOT_OK.exec(line);
    if (!notOk || DIRECTIVE.test(notOk[2])) return;
    const depth = notOk[1].length / 4;
    const failure = { path: [...this.#open.slice(0, depth), notOk[2].replace(TIME, '')], details: [] };
    this.#found.push(failure);
    this.#reading = { failure, indent: `${notOk[1]}  ` };
  }
}

/** The lines to print for a run's failures (none when nothing failed). */
export function failureReport(failures, limit = 10) {
  if (failures.length === 0) return [];
  const lines = [`failed tests (${failures.length}):`];
  for (const failure of failures.slice(0, limit)) {
    lines.push(`  ✗ ${failure.path.join(' > ')}`);
    for (const detail of failure.details) lines.push(`      ${detail}`);
  }
  if (failures.length > limit) lines.push(`  … and ${failures.length - limit} more (search the log for "not ok")`);
  return lines;
}
