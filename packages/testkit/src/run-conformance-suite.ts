import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { createGateway, type Gateway } from '@enginegate/gateway';
import type { ConformanceTarget, ScenarioResult } from './conformance-target.js';
import { recordScenarioResult } from './conformance-report.js';
import { EngineProbe } from './engine-probe.js';
import { LogsClient } from '@enginegate/test-client';
import { SCENARIOS } from './scenario-catalogue.js';
import { bytesScenarios } from './scenarios/bytes-scenarios.js';
import { eventsScenarios } from './scenarios/events-scenarios.js';
import { mergedScenarios } from './scenarios/merged-scenarios.js';
import { refusalScenarios } from './scenarios/refusal-scenarios.js';
import type { Scenario } from './scenarios/scenario.js';
import { selectionScenarios } from './scenarios/selection-scenarios.js';
import { streamingScenarios } from './scenarios/streaming-scenarios.js';
import { SuiteHarness, eventually } from './suite-harness.js';

const IMPLEMENTATIONS: Record<string, Scenario> = {
  ...selectionScenarios,
  ...bytesScenarios,
  ...streamingScenarios,
  ...refusalScenarios,
  ...eventsScenarios,
  ...mergedScenarios,
};

const DEFAULT_SCENARIO_TIMEOUT_MS = 30_000;

/**
 * Runs the LogSource conformance suite against one engine plugin, as a tap subtest of `t`:
 * a gateway (port 0, loopback, a fresh token) serves the plugin, and every scenario drives it
 * over WebSocket and plain HTTP as a client would. Resolves with each scenario's result (also
 * appended to `$ENGINEGATE_CONFORMANCE_REPORT` when set).
 */
/** What tap's `t.test()` resolves to, as far as the report needs it. */
interface ScenarioOutcome {
  ok: boolean;
  fail: number;
  failures: { name?: string }[];
}

export async function runConformanceSuite(t: Test, target: ConformanceTarget): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const report = (result: ScenarioResult) => {
    results.push(result);
    recordScenarioResult(result);
    target.onResult?.(result);
  };
  const unknown = (target.only ?? []).filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`runConformanceSuite: unknown scenarios in only: ${unknown.join(', ')}`);

  await t.test(`conformance: ${target.name}`, async (suite) => {
    const started = await startGateway(target);
    suite.teardown(started.close);
    const { gateway, probe } = started;
    const client = new LogsClient(gateway.url!, gateway.token!);
    const harness = new SuiteHarness(target, client, probe);

    for (const scenario of SCENARIOS) {
      if (target.only && !target.only.includes(scenario.name)) continue;
      const missing = scenario.needs
        .map((capability) => harness.missing(capability))
        .find((reason) => reason !== undefined);
      if (missing !== undefined) {
        await suite.test(scenario.name, { skip: missing }, async () => {});
        report({ engine: target.name, scenario: scenario.name, result: 'skip', reason: missing });
        continue;
      }
      const outcome = (await suite.test(
        scenario.name,
        { timeout: target.scenarioTimeoutMs ?? DEFAULT_SCENARIO_TIMEOUT_MS },
        async (st) => {
          st.comment(scenario.checks);
          await IMPLEMENTATIONS[scenario.name]!(st, harness);
        },
      )) as ScenarioOutcome | null | undefined;
      const passed = outcome?.ok === true && outcome.fail === 0;
      const result: ScenarioResult = { engine: target.name, scenario: scenario.name, result: passed ? 'pass' : 'fail' };
      if (!passed) result.reason = outcome?.failures[0]?.name || 'failed';
      report(result);
    }
  });
  return results;
}

/** A gateway serving only the plugin under test, on a free loopback port. */
async function startGateway(
  target: ConformanceTarget,
): Promise<{ gateway: Gateway; probe: EngineProbe; close: () => Promise<void> }> {
  const { plugin } = target;
  const stateDir = mkdtempSync(join(tmpdir(), 'enginegate-testkit-'));
  let gateway: Gateway;
  try {
    gateway = await createGateway({
      host: '127.0.0.1',
      port: 0,
      token: randomBytes(16).toString('hex'),
      stateDir,
      plugins: [plugin],
      engine: plugin.name,
      pluginConfig: { [plugin.name]: target.pluginConfig ?? {} },
      logger: false,
      healthIntervalMs: 500,
      // Engines without events() are polled by the gateway; a short interval keeps the bounds of the events and join scenarios meaningful.
      eventsPollIntervalMs: 250,
    });
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const close = async () => {
    await gateway.close();
    rmSync(stateDir, { recursive: true, force: true });
  };
  try {
    const loadError = gateway.pluginErrors.find(
      (err) => err.message.includes(`"${plugin.name}"`) || err.spec.includes(plugin.name),
    );
    if (loadError) throw new Error(`the gateway refused the plugin under test: ${loadError.message}`);
    const engine = gateway.engines.engineNamed(plugin.name);
    if (!engine)
      throw new Error(
        `the gateway has no engine named ${plugin.name} (loaded: ${gateway.engines.available().join(', ')})`,
      );
    const probe = new EngineProbe(engine);
    await gateway.listen();
    const running = await eventually(() => gateway.engines.state === 'running', 30_000, 50);
    if (!running) throw new Error(`the ${plugin.name} engine did not start: its state is ${gateway.engines.state}`);
    return { gateway, probe, close };
  } catch (err) {
    await close();
    throw err;
  }
}
