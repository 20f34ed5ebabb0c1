/** The README of a plugin `enginegate plugin new` writes: what it is, how to build, check and serve it. */
export function pluginReadme(pluginName: string, packageName: string, folderName: string): string {
  return `# ${packageName}

An enginegate engine plugin, named \`${pluginName}\`, written by \`enginegate plugin new\` as a
starting point. Its containers are the files of a folder (the \`dir\` setting); each file's lines
are its log, on stdout. A file never exits: a followed log goes on with what is appended, until
the file is removed.

## Build, check, serve

\`\`\`sh
npm install
npm run build
# from the folder above, with enginegate installed there:
npx enginegate conformance --plugin ./${folderName}
mkdir -p /tmp/${pluginName}-logs && echo hello > /tmp/${pluginName}-logs/hello
npx enginegate serve --plugin ./${folderName} --plugin-config ${pluginName}.dir=/tmp/${pluginName}-logs --engine ${pluginName}
npx enginegate logs hello
\`\`\`

The setting can also come from \`ENGINEGATE_${pluginName.toUpperCase().replace(/-/g, '_')}_DIR\` or
\`--config FILE\` (\`{"plugins": {"${pluginName}": {"dir": "..."}}}\`).

## Files

| file | what |
|---|---|
| \`src/index.ts\` | the plugin: its name, its settings schema and \`register\` |
| \`src/folder-engine.ts\` | the engine: start, stop, health, containers, resolving a reference (ID, name, ID prefix) |
| \`src/file-log.ts\` | one log stream: \`tail\` and \`after\` (byte cursors), whole lines, following a file |
| \`src/conformance.ts\` | how \`enginegate conformance\` makes a container, and what a file cannot do |

To serve another engine, replace the folder in \`src/folder-engine.ts\` and \`src/file-log.ts\`
with yours and update \`capabilities\` in \`src/conformance.ts\`: the conformance suite then
runs the scenarios it skips now (stderr, times, exits, a terminal). The contract is the README
of \`@enginegate/plugin-api\`.
`;
}
