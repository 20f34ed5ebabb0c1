// packages/plugin-api/README.md is the contract in one page: it names every export of the
// package, and every error code with its HTTP status as ERROR_CODES has it.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import * as api from '@enginegate/plugin-api';

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');

t.test('every runtime export is named in the README', async (t) => {
  const missing = Object.keys(api).filter((name) => !readme.includes(`\`${name}`));
  t.same(missing, [], 'none missing');
});

t.test('every error code is listed with its status', async (t) => {
  for (const [code, status] of Object.entries(api.ERROR_CODES)) {
    t.match(readme, new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm'), `${code}: ${status}`);
  }
});

t.test('the constants are given with their values', async (t) => {
  for (const [name, value] of [
    ['MAX_ECHOED_INPUT_CHARS', `${api.MAX_ECHOED_INPUT_CHARS}`],
    ['MAX_CONTAINER_REF_BYTES', `${api.MAX_CONTAINER_REF_BYTES}`],
    ['DEFAULT_MAX_LINE_BYTES', `${api.DEFAULT_MAX_LINE_BYTES / 1024 / 1024} MiB`],
    ['MAX_QUEUED_EVENTS', api.MAX_QUEUED_EVENTS.toLocaleString('en')],
    ['PLUGIN_API_VERSION', `${api.PLUGIN_API_VERSION}`],
  ] as const) {
    t.ok(
      readme.includes(`\`${name}\` (${value})`) || readme.includes(`\`${name}\` (\`${value}\`)`),
      `${name} = ${value}`,
    );
  }
});
