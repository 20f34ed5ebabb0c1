import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, UsageError } from '../cli-errors.js';
import { parseCommandLine, printUsage, type Command } from '../command-line.js';
import { CLI_INSTALL_DIR, resolvePluginSpecifier } from '../plugin-specs.js';

const OPTIONS = {
  plugin: { type: 'string' },
  engine: { type: 'string' },
  only: { type: 'string', multiple: true },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const conformanceCommand: Command = {
  name: 'conformance',
  summary: "run the testkit's conformance suite on an engine plugin",
  usage: `Usage: enginegate conformance --plugin NAME_OR_PATH [--engine NAME] [OPTIONS]

Runs @enginegate/testkit's conformance scenarios against a plugin, through a gateway on a free
loopback port, and prints one row per scenario (pass, skip or FAIL, with the reasons under the
table). Exit 0 when no scenario failed, 1 when one did, 2 when the plugin cannot be run.

The plugin module exports, beside its default export (the plugin), how the suite creates a
container that writes given lines:
  export const conformance = { createContainer, capabilities?, capabilityNotes?, pluginConfig? }
(\`PluginConformance\` in @enginegate/testkit; \`enginegate plugin new\` writes one.)

Options:
  --plugin NAME_OR_PATH  the plugin: a file, a folder or a package name (as \`serve --plugin\`)
  --engine NAME          the engine's column in the table (default the plugin's name)
  --only SCENARIO        run only this scenario (repeatable)
  -v, --verbose          also print the suite's TAP output (on stderr)`,

  async run(argv, context) {
    const { values, positionals } = parseCommandLine('conformance', argv, OPTIONS);
    if (values.help) return printUsage(context, this.usage);
    if (positionals.length > 0) {
      throw new UsageError(
        `unexpected argument ${JSON.stringify(positionals[0])} (see \`enginegate conformance --help\`)`,
      );
    }
    if (values.plugin === undefined) {
      throw new UsageError('give --plugin NAME_OR_PATH (see `enginegate conformance --help`)');
    }
    const spec = resolvePluginSpecifier(values.plugin, context.cwd);
    const reportDir = await mkdtemp(join(tmpdir(), 'enginegate-conformance-'));
    try {
      const reportFile = join(reportDir, 'report.jsonl');
      const request = {
        spec,
        searchFrom: [CLI_INSTALL_DIR],
        cwd: context.cwd,
        reportFile,
        ...(values.engine !== undefined ? { engine: values.engine } : {}),
        ...(values.only !== undefined ? { only: values.only } : {}),
      };
      const { code, output } = await runSuite(
        JSON.stringify(request),
        context.cwd,
        values.verbose ? context.stderr : undefined,
      );
      if (code === 2) throw new CliError(output.trim().split('\n').at(-1) ?? 'the plugin could not be run', 2);
      return await printReport(reportFile, code, output, context.stdout);
    } finally {
      await rm(reportDir, { recursive: true, force: true });
    }
  },
};

/** Runs testkit's conformance-run.js in a child process; its TAP output is collected (and echoed when verbose). */
function runSuite(
  request: string,
  cwd: string,
  echo: NodeJS.WritableStream | undefined,
): Promise<{ code: number; output: string }> {
  const script = fileURLToPath(import.meta.resolve('@enginegate/testkit/conformance-run'));
  const child = spawn(process.execPath, [script, request], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    echo?.write(chunk);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

async function printReport(
  reportFile: string,
  code: number,
  output: string,
  stdout: NodeJS.WritableStream,
): Promise<number> {
  const { conformanceTable, readConformanceReport } = await import('@enginegate/testkit');
  let results: ReturnType<typeof readConformanceReport> = [];
  try {
    results = readConformanceReport(reportFile);
  } catch {
    // no scenario got as far as a result
  }
  if (results.length === 0) {
    const last = output.trim().split('\n').slice(-20).join('\n');
    throw new CliError(`the conformance suite ran no scenario (exit ${code}): ${last}`);
  }
  stdout.write(conformanceTable(results));
  const failed = results.filter((result) => result.result === 'fail').length;
  const skipped = results.filter((result) => result.result === 'skip').length;
  const passed = results.length - failed - skipped;
  stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  return failed > 0 || code !== 0 ? 1 : 0;
}
