// A plugin installed with its own copy of plugin-api throws errors of classes the gateway has
// never seen: they must get the same statuses as the gateway's own (issue 8, "errors by code").
import t from 'tap';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ContainerNotFoundError } from '@enginegate/plugin-api';
import { startGateway } from './fixtures/harness.js';

const pluginApiDir = fileURLToPath(new URL('../../plugin-api/', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/own-copy/errors-plugin.mjs', import.meta.url));

/** A folder holding the plugin and, in its node_modules, a copy of plugin-api that is its alone. */
function installWithOwnCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'enginegate-own-copy-'));
  const copy = join(dir, 'node_modules', '@enginegate', 'plugin-api');
  mkdirSync(copy, { recursive: true });
  cpSync(join(pluginApiDir, 'package.json'), join(copy, 'package.json'));
  cpSync(join(pluginApiDir, 'dist'), join(copy, 'dist'), { recursive: true });
  cpSync(fixture, join(dir, 'errors-plugin.mjs'));
  return dir;
}

t.test('errors of a second copy of plugin-api keep their statuses through the gateway', async (t) => {
  const dir = installWithOwnCopy();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pluginFile = join(dir, 'errors-plugin.mjs');
  const theirs = (await import(pathToFileURL(pluginFile).href)) as { classes: Record<string, unknown> };
  t.not(theirs.classes.ContainerNotFoundError, ContainerNotFoundError, 'the plugin really has its own classes');

  const { gw, client } = await startGateway(t, { plugins: [pluginFile], engine: 'errors' });
  t.same(gw.pluginErrors, [], 'the plugin loads');

  const expected: Array<[string, number, string]> = [
    ['nothing-here', 404, 'CONTAINER_NOT_FOUND'],
    ['ab', 409, 'AMBIGUOUS_CONTAINER'],
    ['write-only', 501, 'LOGS_UNSUPPORTED'],
    ['down', 503, 'ENGINE_UNAVAILABLE'],
    ['bad-cursor', 400, 'INVALID_ARGUMENT'],
  ];
  for (const [ref, status, code] of expected) {
    const answer = await client.get(`/passthrough/engine/logs/${ref}`);
    t.equal(answer.status, status, `HTTP ${ref}: ${status}`);
    t.equal(answer.json.error.code, code, `HTTP ${ref}: ${code}`);
    const upgrade = await client.refusedUpgrade(`/passthrough/engine/logs/${ref}`, ['v1.json.enginegate']);
    t.equal(upgrade.status, status, `upgrade ${ref}: ${status}`);
    t.equal(upgrade.json.error.code, code, `upgrade ${ref}: ${code}`);
  }
  const down = await client.get('/passthrough/engine/logs/down');
  t.equal(down.headers.get('retry-after'), '3', 'the 503 keeps its Retry-After');
  const listing = await client.get('/passthrough/engine/containers');
  t.equal(listing.status, 503, 'containers() failing with the other copy’s error: 503');
  t.equal(listing.json.error.code, 'ENGINE_UNAVAILABLE');
});
