// Runs every tap suite and ends with the line CI reads: `N passed, N failed, N skipped`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { failureReport, TapFailureCollector } from './tap-failures.mjs';

export const TEST_GLOBS = [
  'packages/*/test/**/*.test.ts',
  'plugins/*/test/**/*.test.ts',
  'test/**/*.test.ts',
  'examples/*/test/**/*.test.ts',
];

/**
 * What makes a suite an integration suite: it starts real daemons or a browser. test-harness's
 * log-records and lines-script are plain helpers (collecting records, writing a script) and
 * start nothing.
 */
const INTEGRATION_IMPORTS = /from '(@enginegate\/test-harness\/(?!log-records'|lines-script')[a-z-]+|playwright-core)'/;
const RELATIVE_IMPORT = /from '(\.{1,2}\/[^']+)\.js'/g;

/** True when the file, or a local module it imports, starts a daemon or a browser. */
function needsDaemonOrBrowser(file, seen = new Set()) {
  if (seen.has(file)) return false;
  seen.add(file);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  if (INTEGRATION_IMPORTS.test(text)) return true;
  for (const [, spec] of text.matchAll(RELATIVE_IMPORT)) {
    if (needsDaemonOrBrowser(resolve(dirname(file), `${spec}.ts`), seen)) return true;
  }
  return false;
}

/** Every `*.test.ts` below the test folders that TEST_GLOBS name (Node 20 has no fs.glob). */
function allSuites(root) {
  const testDirs = [join(root, 'test')];
  for (const group of ['packages', 'plugins', 'examples']) {
    for (const entry of readdirSync(join(root, group), { withFileTypes: true })) {
      if (entry.isDirectory()) testDirs.push(join(root, group, entry.name, 'test'));
    }
  }
  const files = [];
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules') walk(path);
      else if (entry.name.endsWith('.test.ts')) files.push(relative(root, path));
    }
  };
  testDirs.forEach(walk);
  return files.sort();
}

/** Suites that start no daemon but take a minute or more: the fuzz suites (`npm run fuzz`). */
const LONG_SUITES = /^test\/fuzz\//;

function unitSuites(root) {
  return allSuites(root).filter((f) => !LONG_SUITES.test(f) && !needsDaemonOrBrowser(join(root, f)));
}

/**
 * tap builds its Test class with the plugins of .taprc, but only notices a changed plugin list
 * after the runner has loaded the old build: that first run would start every test with the old
 * plugins' loaders. So build first whenever .taprc differs from the one tap was last built with.
 */
function ensureTapBuilt(root) {
  const marker = join(root, 'node_modules', '.enginegate-taprc-built');
  // The build's own file too: a reinstall that puts tap's stock build back must rebuild.
  const pnpmDir = join(root, 'node_modules', '.pnpm');
  const testPackage = readdirSync(pnpmDir).find((d) => d.startsWith('@tapjs+test@'));
  const builtFile =
    testPackage && join(pnpmDir, testPackage, 'node_modules', '@tapjs', 'test', 'dist', 'esm', 'index.js');
  const stamp = () => (builtFile ? String(statSync(builtFile).mtimeMs) : '');
  const taprc = readFileSync(join(root, '.taprc'), 'utf8');
  let built = '';
  try {
    built = readFileSync(marker, 'utf8');
  } catch {
    // never built here
  }
  if (built === `${taprc}\n${stamp()}`) return;
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), 'build'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`tap build failed (exit ${r.status ?? r.signal})`);
  writeFileSync(marker, `${taprc}\n${stamp()}`);
}

/** How many unit processes run at once: ENGINEGATE_TEST_JOBS, else four a core, at least 8. */
function unitJobs() {
  const asked = Number(process.env.ENGINEGATE_TEST_JOBS);
  return Number.isInteger(asked) && asked > 0 ? asked : Math.max(8, 4 * availableParallelism());
}

/**
 * A suite that sets its own overall timeout (`t.setTimeout(…)` at the top level) is a long one:
 * it spawns CLIs, gateways or compilers. Not timed yet, it counts as a quarter of that timeout.
 */
const OWN_TIMEOUT = /^t\.setTimeout\((\d[\d_]*)/m;

/**
 * How many processes the suites share: ENGINEGATE_TEST_SHARDS, else three a core, at least 6.
 * Each one loads tap, the hooks and the packages again (2 cores: 6 took 85–92 s of CPU, 8 took
 * 92–127 s), and fewer than that leave a core idle while a process waits on its timers.
 */
function unitShards() {
  const asked = Number(process.env.ENGINEGATE_TEST_SHARDS);
  return Number.isInteger(asked) && asked > 0 ? asked : Math.max(6, 3 * availableParallelism());
}

/**
 * The unit suites as tap's runner gets them. Starting a process that loads tap, the TypeScript
 * hooks, fastify and the gateway costs 0.5–1 s of CPU, most of a small suite's run: so the
 * suites share processes (scripts/unit-shard.mjs; 22 processes → 8 took test:unit from 133 s
 * of CPU to 107 s). Each process records how long its suites took; the next run packs them by
 * those times (longest first, into the least loaded process) and names the entry files so
 * that tap, which runs files in name order, starts the longest first.
 */
function unitRunFiles(root, suites) {
  const dir = join(root, 'node_modules', '.cache', 'enginegate-unit');
  // This machine's own times where it has them; a fresh checkout packs by the committed ones.
  const known = { ...readCommittedTimes(root), ...readSuiteTimes(dir) };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Each suite's own top-level timeout in ms, undefined for none: read once per file.
  const timeouts = new Map(
    suites.map((file) => {
      const declared = OWN_TIMEOUT.exec(readFileSync(join(root, file), 'utf8'))?.[1];
      return [file, declared === undefined ? undefined : Number(declared.replace(/_/g, ''))];
    }),
  );
  const ownTimeout = (file) => timeouts.get(file);
  const times = Object.values(known).sort((a, b) => a - b);
  const typical = times.length > 0 ? times[Math.floor(times.length / 2)] : 2_000;
  // Not timed yet: a long suite by its own timeout (a fraction of it), a short one as typical.
  const estimate = (file) => known[file] ?? (ownTimeout(file) !== undefined ? ownTimeout(file) / 4 : typical);
  const shared = [...suites].sort((a, b) => estimate(b) - estimate(a));
  const shards = Array.from({ length: Math.min(shared.length, unitShards()) }, () => ({ files: [], ms: 0 }));
  for (const file of shared) {
    const lightest = shards.reduce((a, b) => (b.ms < a.ms ? b : a));
    lightest.files.push(file);
    lightest.ms += estimate(file);
  }
  const entries = shards.sort((a, b) => b.ms - a.ms);
  const shardModule = JSON.stringify(pathToFileURL(join(root, 'scripts', 'unit-shard.mjs')).href);
  return entries.map(({ files }, i) => {
    const name = files.length === 1 ? basename(files[0], '.test.ts') : `${files.length}-suites`;
    const path = join(dir, `${String(i + 1).padStart(2, '0')}-${name}.test.mjs`);
    const absolute = files.map((file) => join(root, file));
    const source = [
      `// Generated by scripts/run-tests.mjs for npm run test:unit: ${files.join(', ')}`,
      `import { runShard } from ${shardModule};`,
      `await runShard(${JSON.stringify(absolute)}, ${JSON.stringify(join(dir, `times-${i + 1}.json`))});`,
      '',
    ].join('\n');
    writeFileSync(path, source);
    return relative(root, path);
  });
}

/**
 * `{ [suite, relative to the root]: ms }` from one warm run on 2 cores, committed so that the first
 * run of a fresh checkout is packed as well as the later ones (packed by estimates, the longest
 * process took 50 s where the others took 26-41). `node scripts/save-unit-times.mjs` rewrites it.
 */
export const COMMITTED_TIMES = join('scripts', 'unit-times.json');

function readCommittedTimes(root) {
  try {
    return JSON.parse(readFileSync(join(root, COMMITTED_TIMES), 'utf8'));
  } catch {
    return {};
  }
}

/** `{ [suite, relative to the root]: ms }` as the last unit run's processes wrote them. */
export function readSuiteTimes(dir) {
  const root = join(dir, '..', '..', '..');
  const times = {};
  let names;
  try {
    names = readdirSync(dir).filter((name) => /^times-\d+\.json$/.test(name));
  } catch {
    return times; // never run here
  }
  for (const name of names) {
    try {
      for (const [file, ms] of Object.entries(JSON.parse(readFileSync(join(dir, name), 'utf8')))) {
        times[relative(root, file)] = ms;
      }
    } catch {
      // a process that died while writing: its suites count as not timed
    }
  }
  return times;
}

/** `--unit`: only the quick suites that need no daemon and no browser (the edit–test loop). */
export async function runTests(root, extraArgs) {
  ensureTapBuilt(root);
  const args = [join(root, 'node_modules', 'tap', 'dist', 'esm', 'run.mjs')];
  const unit = extraArgs.includes('--unit');
  const rest = extraArgs.filter((a) => a !== '--unit');
  // No coverage for the edit–test loop (the full run reports it). The full run keeps tap's
  // default of one suite a core: more would starve the daemon suites that time live delivery.
  // Unit suites mostly wait on timers and sockets, so twice the cores (4 at least) halves the
  // loop's wall time (3m06s → 1m09s on 2 cores) with every suite still passing.
  // Unit suites load TypeScript through scripts/ts-hooks.mjs instead of tsx, whose hooks also
  // resolve and read every JavaScript module a suite loads (importing gateway, mock and tap:
  // ~1 s less CPU a suite on a loaded machine). `npm test` keeps .taprc's tsx.
  const hooks = `--node-arg=--import=${pathToFileURL(join(root, 'scripts', 'ts-register.mjs')).href}`;
  if (unit) {
    // Files named on the command line run as named, each in its own process; tap's options pass on.
    const named = rest.filter((a) => !a.startsWith('-'));
    const files = named.length > 0 ? named : unitRunFiles(root, unitSuites(root));
    args.push('--disable-coverage', `--jobs=${unitJobs()}`, hooks, ...rest.filter((a) => a.startsWith('-')), ...files);
  } else args.push(...(rest.length > 0 ? rest : TEST_GLOBS));
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: join(root, 'tsconfig.test.json'),
      ...(unit && { ENGINEGATE_UNIT_RUN: '1' }),
    },
  });
  // Stopping `npm test` stops tap, whose suites then stop the daemons they started.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  let tail = '';
  const failures = new TapFailureCollector();
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    failures.push(chunk);
    tail = (tail + chunk).slice(-4096);
  });
  const code = await new Promise((resolve) => child.on('close', (c, s) => resolve(c ?? (s ? 1 : 0))));
  // tap ends with `# { total: N, pass: N, fail: N, skip: N, ... }`
  const summary = /# \{ ([^}]*) \}/.exec(tail.slice(tail.lastIndexOf('# {')));
  const count = (key) => Number(new RegExp(`\\b${key}: (\\d+)`).exec(summary?.[1] ?? '')?.[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + (code !== 0 && count('fail') === 0 ? 1 : 0);
  const skipped = count('skip') + count('todo');
  // Last before the count, so that a CI page showing only the end of the run names them.
  for (const line of failureReport(failures.failures())) console.log(line);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(code);
}
