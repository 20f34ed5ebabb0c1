// The process `enginegate conformance` runs: imports a plugin module (its default export, the
// plugin, and its `conformance` export) and runs the suite on it under tap, appending each
// result to the report file the command then prints as a table. Its argument is one
// ConformanceRunRequest as JSON; exit 2 when the module cannot be run at all.
import t from 'tap';
import { PluginLoader, checkPluginShape } from '@enginegate/gateway';
import { errorText, type EnginePlugin } from '@enginegate/plugin-api';
import { recordScenarioResult } from './conformance-report.js';
import { conformanceExportProblem, type ConformanceRunRequest, type PluginConformance } from './plugin-conformance.js';
import { runConformanceSuite } from './run-conformance-suite.js';

const request = JSON.parse(process.argv[2] ?? '{}') as ConformanceRunRequest;

/** The plugin and its conformance export, or exit 2 with one line saying why not. */
async function loadTarget(): Promise<{ plugin: EnginePlugin; conformance: PluginConformance }> {
  try {
    const module = await new PluginLoader(request.cwd, request.searchFrom).importModule(request.spec);
    const plugin = checkPluginShape(request.spec, module['default']);
    const problem = conformanceExportProblem(request.spec, module['conformance']);
    if (problem !== undefined) throw new Error(problem);
    return { plugin, conformance: module['conformance'] as PluginConformance };
  } catch (err) {
    process.stderr.write(`${errorText(err)}\n`);
    process.exit(2);
  }
}

const { plugin, conformance } = await loadTarget();
t.setTimeout(30 * 60_000);
await runConformanceSuite(t, {
  ...conformance,
  name: request.engine ?? conformance.name ?? plugin.name,
  plugin,
  ...(request.only ? { only: request.only } : {}),
  onResult: (result) => {
    recordScenarioResult(result, request.reportFile);
    conformance.onResult?.(result);
  },
});
