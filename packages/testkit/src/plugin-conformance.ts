import type { ConformanceTarget } from './conformance-target.js';

/**
 * What a plugin module exports as `conformance` so that `enginegate conformance --plugin X` can
 * run the suite on it without a test file: the target without the plugin itself (the module's
 * default export) and with its name optional (default the plugin's name).
 */
export type PluginConformance = Omit<ConformanceTarget, 'name' | 'plugin'> & { name?: string };

/** The one argument `conformance-run.js` takes, as JSON. */
export interface ConformanceRunRequest {
  /** The plugin as `--plugin` named it: a file, folder or package name. */
  spec: string;
  /** Where its name is looked up after `cwd`. */
  searchFrom: string[];
  cwd: string;
  /** Where each scenario's result is appended (see REPORT_ENV). */
  reportFile: string;
  /** The engine name to report under; default the conformance export's name or the plugin's. */
  engine?: string;
  only?: string[];
}

/** Why a module cannot be run by `enginegate conformance`, or undefined when it can. */
export function conformanceExportProblem(spec: string, exported: unknown): string | undefined {
  if (exported === undefined) {
    return (
      `plugin ${spec} exports no \`conformance\` (how the suite creates a container: ` +
      'export const conformance = { createContainer, capabilities? } beside the default export)'
    );
  }
  if (exported === null || typeof exported !== 'object') return `plugin ${spec}: \`conformance\` is not an object`;
  if (typeof (exported as PluginConformance).createContainer !== 'function') {
    return `plugin ${spec}: \`conformance.createContainer\` is not a function`;
  }
  return undefined;
}
