// One process of `npm run test:unit` (scripts/run-tests.mjs writes the entry files that call
// this): it imports its suites one after the other into tap's root test, so that tap, the
// TypeScript hooks and the packages they share load once, and it records how long each suite's
// tests took, which the next run balances its processes by.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import t from 'tap';

/**
 * @param {string[]} files absolute paths of the suites
 * @param {string} timesFile where to write `{ [file]: ms }` when the process ends
 */
export async function runShard(files, timesFile) {
  // Each suite alone has tap's 30 s or the timeout it sets at its top level (`t.setTimeout`,
  // which here would set the whole process's): together they get the sum.
  const budgets = new Map(files.map((file) => [file, 30_000]));
  const setRootTimeout = t.setTimeout.bind(t);
  const total = () => [...budgets.values()].reduce((sum, ms) => sum + ms, 0);
  setRootTimeout(total());
  // A suite's time: its import (top-level awaits, which may run tests, too), then from the start
  // of its first test after that to the end of its last. Its tests queue on the root test and
  // run after the suites before it; some suites run theirs concurrently: a span, not a sum.
  const spans = Object.fromEntries(files.map((file) => [file, { loaded: 0, loading: 0, start: Infinity, end: 0 }]));
  process.on('exit', () => {
    const ms = ({ loaded, loading, start, end }) => loading + Math.max(0, end - Math.max(start, loaded));
    const times = Object.fromEntries(files.map((file) => [file, Math.round(ms(spans[file]))]));
    writeFileSync(timesFile, `${JSON.stringify(times)}\n`);
  });
  const rootTest = t.test.bind(t);
  let loading = '';
  t.setTimeout = (ms) => {
    if (!budgets.has(loading)) return setRootTimeout(ms);
    budgets.set(loading, ms);
    return setRootTimeout(total());
  };
  t.test = (...args) => {
    const span = spans[loading];
    const i = args.findIndex((arg) => typeof arg === 'function');
    if (span !== undefined && i >= 0) {
      const body = args[i];
      args[i] = async (...bodyArgs) => {
        span.start = Math.min(span.start, performance.now());
        try {
          return await body(...bodyArgs);
        } finally {
          span.end = Math.max(span.end, performance.now());
        }
      };
    }
    return rootTest(...args);
  };
  // A suite may await its own tests at its top level (a conformance run, a gateway start), so
  // the root's queue can be empty while the next suite loads. tap ends an idle root test once a
  // teardown is registered on it (its way to stop servers that keep the process alive), and at
  // beforeExit: so root teardowns are registered after the last suite has loaded, and a timer
  // keeps the process alive until then.
  const keepAlive = setInterval(() => {}, 60_000);
  const registerTeardown = t.teardown;
  const teardowns = [];
  t.teardown = (fn) => void teardowns.push(fn);
  for (const file of files) {
    loading = file;
    const start = performance.now();
    try {
      await import(pathToFileURL(file).href);
      spans[file].loaded = performance.now();
      spans[file].loading = spans[file].loaded - start;
    } catch (err) {
      // A suite that fails to load fails here, by name, and the others still run.
      t.fail(`${file} failed to load`, { error: err });
    }
  }
  t.teardown = registerTeardown;
  for (const fn of teardowns) t.teardown(fn);
  clearInterval(keepAlive);
}
