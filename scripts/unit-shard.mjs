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
  // A suite's time: the run time of its tests, plus its import's time outside any test (loading,
  // and top-level awaits such as a gateway start). The root test runs one test at a time, and
  // a suite's import may wait behind the tests of the suites before it: that wait is theirs.
  const own = Object.fromEntries(files.map((file) => [file, 0]));
  let testsMs = 0;
  let runningSince;
  const testTime = () => testsMs + (runningSince === undefined ? 0 : performance.now() - runningSince);
  process.on('exit', () => {
    const times = Object.fromEntries(files.map((file) => [file, Math.round(own[file])]));
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
    const file = loading;
    const i = args.findIndex((arg) => typeof arg === 'function');
    if (file in own && i >= 0) {
      const body = args[i];
      args[i] = async (...bodyArgs) => {
        const started = performance.now();
        runningSince = started;
        try {
          return await body(...bodyArgs);
        } finally {
          const ms = performance.now() - started;
          own[file] += ms;
          testsMs += ms;
          runningSince = undefined;
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
    const testsBefore = testTime();
    try {
      await import(pathToFileURL(file).href);
      own[file] += performance.now() - start - (testTime() - testsBefore);
    } catch (err) {
      // A suite that fails to load fails here, by name, and the others still run.
      t.fail(`${file} failed to load`, { error: err });
    }
  }
  t.teardown = registerTeardown;
  for (const fn of teardowns) t.teardown(fn);
  clearInterval(keepAlive);
}
