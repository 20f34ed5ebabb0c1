import { UsageError } from '../cli-errors.js';
import { parseCommandLine, printUsage, type Command } from '../command-line.js';
import { pluginPathArgument, writePluginScaffold } from '../plugin-scaffold.js';

const OPTIONS = {
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const pluginCommand: Command = {
  name: 'plugin',
  summary: 'write a new engine plugin to start from (plugin new DIR)',
  usage: `Usage: enginegate plugin new DIR [--name NAME]

Writes a minimal engine plugin into DIR, a new or empty folder: a TypeScript package (ESM,
strict) whose containers are the files of a folder given by its \`dir\` setting, each file's
lines its log. It passes \`enginegate conformance\`; the scenarios a file cannot do (stderr,
times, exits, a terminal) are skipped, each with its reason. Its package.json names
@enginegate/plugin-api (a peer and a dev dependency) and @enginegate/testkit in the versions
of this enginegate.

Then, for DIR my-plugin (plugin name my):
  (cd my-plugin && npm install && npm run build)
  enginegate conformance --plugin ./my-plugin
  enginegate serve --plugin ./my-plugin --plugin-config my.dir=/path/to/logs --engine my

Options:
  --name NAME   the plugin's (and engine's) name: lowercase letters, digits, _ and -.
                Default: DIR's name without "enginegate-plugin-", "plugin-" or "-plugin"

Exit 2 when DIR is not empty or the name is not valid; nothing is written then.`,

  async run(argv, context) {
    const { values, positionals } = parseCommandLine('plugin', argv, OPTIONS);
    if (values.help) return printUsage(context, this.usage);
    const [action, dir, ...rest] = positionals;
    if (action !== 'new') {
      const what = action === undefined ? 'give a subcommand' : `unknown subcommand ${JSON.stringify(action)}`;
      throw new UsageError(`${what}: enginegate plugin new DIR (see \`enginegate plugin --help\`)`);
    }
    if (dir === undefined || rest.length > 0) {
      throw new UsageError('`enginegate plugin new` takes one folder (see `enginegate plugin --help`)');
    }
    const scaffold = await writePluginScaffold({
      dir,
      cwd: context.cwd,
      ...(values.name !== undefined ? { name: values.name } : {}),
    });
    const path = pluginPathArgument(dir);
    const { pluginName: name } = scaffold;
    context.stdout.write(
      [
        `wrote the plugin ${name} (package ${scaffold.packageName}) in ${dir}: ${scaffold.files.join(', ')}`,
        '',
        'Next:',
        `  (cd ${dir} && npm install && npm run build)`,
        `  npx enginegate conformance --plugin ${path}`,
        `  npx enginegate serve --plugin ${path} --plugin-config ${name}.dir=/path/to/logs --engine ${name}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
