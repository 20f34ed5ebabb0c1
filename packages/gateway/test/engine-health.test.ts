// The health scheduler behind EngineManager: restart attempts of an unavailable engine back off
// (250 ms doubling to 4 s, and the 503 says so), a recovery report retries at once, and a check
// asked for while one is running follows it instead of waiting for the next poll.
import t, { type Test } from 'tap';
import { createContainer } from 'awilix';
import {
  EngineUnavailableError,
  PLUGIN_API_VERSION,
  type EngineHealth,
  type EnginePlugin,
  type PluginOptions,
} from '@enginegate/plugin-api';
import { EngineManager } from '@enginegate/gateway';

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

interface Daemon {
  up: boolean;
  starts: number[];
  healthChecks: number;
  /** When set, health() waits for this before answering (with what it found when asked). */
  healthGate?: Promise<void>;
  reportHealth?: (health: EngineHealth) => void;
}

function daemonPlugin(daemon: Daemon): EnginePlugin {
  return {
    name: 'd',
    apiVersion: PLUGIN_API_VERSION,
    register(_container, options: PluginOptions) {
      daemon.reportHealth = options.reportHealth;
      return {
        name: 'd',
        async start() {
          daemon.starts.push(performance.now());
          if (!daemon.up) throw new EngineUnavailableError('d: connection refused');
        },
        async stop() {},
        async health() {
          daemon.healthChecks += 1;
          const up = daemon.up; // as it was when asked
          await daemon.healthGate;
          return up ? { ok: true } : { ok: false, message: 'd is down' };
        },
        containers: async () => [],
        logs: { open: async () => (async function* () {})() },
      };
    },
  };
}

async function managerFor(t: Test, daemon: Daemon, healthIntervalMs: number) {
  const engines = new EngineManager({
    container: createContainer(),
    logger: silent,
    pluginConfig: {},
    healthIntervalMs,
  });
  await engines.addPlugin('d', daemonPlugin(daemon));
  t.teardown(() => engines.close());
  return engines;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

function retryAfter(engines: EngineManager): number | undefined {
  try {
    engines.snapshot();
    return undefined;
  } catch (err) {
    return (err as EngineUnavailableError).retryAfterSeconds;
  }
}

t.test('restart attempts back off: 250 ms, then doubling; Retry-After follows', async (t) => {
  const daemon: Daemon = { up: false, starts: [], healthChecks: 0 };
  const engines = await managerFor(t, daemon, 10_000);
  await engines.use('d');
  t.equal(engines.state, 'unavailable');
  t.ok(await until(() => daemon.starts.length >= 5), 'the first start and four retries');
  const gaps = daemon.starts.slice(1, 5).map((at, i) => at - daemon.starts[i]!);
  // A timer never fires early; on a loaded machine it may fire late, so only lower bounds.
  [250, 500, 1000, 2000].forEach((nominal, i) =>
    t.ok(gaps[i]! >= nominal - 5, `retry ${i + 1} waited ${Math.round(gaps[i]!)} ms (backoff ${nominal})`),
  );
  t.equal(retryAfter(engines), 4, 'the 503 carries the next backoff step (4 s)');
  t.throws(() => engines.snapshot(), /d is unavailable: d: connection refused/, 'the 503 says why');
});

t.test('a recovery report retries at once and resets the backoff', async (t) => {
  const daemon: Daemon = { up: false, starts: [], healthChecks: 0 };
  const engines = await managerFor(t, daemon, 10_000);
  await engines.use('d');
  t.ok(await until(() => daemon.starts.length >= 4), 'backing off (1 s steps by now)');
  daemon.up = true;
  const reportedAt = performance.now();
  daemon.reportHealth!({ ok: true });
  t.ok(await until(() => engines.state === 'running', 5000), 'running again');
  const waited = daemon.starts[daemon.starts.length - 1]! - reportedAt;
  t.ok(waited < 900, `started again ${Math.round(waited)} ms after the report, not at the next 2 s step`);

  daemon.up = false;
  daemon.reportHealth!({ ok: false, message: 'gone again' });
  t.equal(engines.state, 'unavailable');
  t.equal(retryAfter(engines), 1, 'a new outage starts the backoff from its first step');
});

t.test('a check asked for during a check runs right after it', async (t) => {
  const daemon: Daemon = { up: true, starts: [], healthChecks: 0 };
  const engines = await managerFor(t, daemon, 60_000);
  await engines.use('d');
  t.equal(engines.state, 'running');
  let release!: () => void;
  daemon.healthGate = new Promise((resolve) => (release = resolve));
  engines.checkHealthNow();
  t.ok(await until(() => daemon.healthChecks === 1), 'a check is running');
  daemon.up = false;
  engines.checkHealthNow();
  t.equal(daemon.healthChecks, 1, 'never two at once');
  daemon.healthGate = undefined;
  release();
  t.ok(await until(() => engines.state === 'unavailable', 5000), 'the second check ran and saw the loss');
  t.equal(daemon.healthChecks, 2, 'long before the 60 s poll');
});
