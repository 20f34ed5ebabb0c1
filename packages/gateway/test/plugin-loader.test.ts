// Plugins that cannot be loaded are rejected with a message naming them, logged at error, and
// skipped: the gateway still serves the mock engine.
import t from 'tap';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import mockPlugin from '@enginegate/plugin-mock';
import { PluginLoader, PluginLoadError, createGateway } from '@enginegate/gateway';
import { LogsClient } from '@enginegate/test-client';
import { TOKEN } from './fixtures/harness.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/plugins/${name}`, import.meta.url));

t.test('bad plugins are rejected by name; the gateway still serves the mock', async (t) => {
  const logLines: Array<{ level: number; msg: string; plugin?: string; err?: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
      done();
    },
  });
  const specs = {
    throwsInRegister: fixture('throws-in-register.mjs'),
    wrongApiVersion: fixture('wrong-api-version.mjs'),
    wrongShape: fixture('wrong-shape.mjs'),
    importThrows: fixture('import-throws.mjs'),
    missingFile: fixture('missing.mjs'),
    missingPackage: 'enginegate-plugin-that-does-not-exist',
  };
  const objectPlugin = { name: 'objecty', apiVersion: 3, register() {} };
  const gw = await createGateway({
    port: 0,
    token: TOKEN,
    engine: 'mock',
    builtinPlugins: [mockPlugin],
    logger: { level: 'info', stream },
    plugins: [...Object.values(specs), objectPlugin as never, fixture('good-plugin.mjs')],
  });
  t.teardown(() => gw.close());

  const messages = gw.pluginErrors.map((e) => e.message);
  t.equal(messages.length, 7, 'seven plugins rejected');
  t.ok(gw.pluginErrors.every((e) => e instanceof PluginLoadError));
  t.match(
    messages[0],
    new RegExp(`plugin ${specs.throwsInRegister} \\(name "boom"\\) failed in register: kaboom in register`),
  );
  t.match(messages[1], /wrong-api-version\.mjs \(name "future"\) is written for plugin API version 2/);
  t.match(messages[2], /wrong-shape\.mjs: "name" must be/);
  t.match(messages[3], /import-throws\.mjs failed to import: top-level failure while importing/);
  t.match(messages[4], /missing\.mjs was not found; looked in \/.*missing\.mjs$/);
  t.match(messages[5], /plugin enginegate-plugin-that-does-not-exist was not found/);
  t.match(messages[6], /objecty.*API version 3/);

  const errorLogs = logLines.filter((l) => l.level === 50 && l.msg === 'plugin failed to load; skipped');
  t.equal(errorLogs.length, 7, 'each failure is logged at error');
  t.ok(
    errorLogs.some((l) => l.plugin === specs.throwsInRegister && /kaboom/.test(l.err ?? '')),
    'the log names the plugin',
  );

  t.same(gw.engines.available(), ['good', 'mock'], 'the good plugin and the mock are loaded');
  const url = await gw.listen();
  const served = new LogsClient(url, TOKEN).socket('/passthrough/engine/logs/mock-exit?follow=false&tail=1', [
    'v1.text.enginegate',
  ]);
  t.equal((await served.closed).code, 1000, 'the mock is served');
  t.equal(served.messages.length, 1);
});

t.test('PluginLoader resolves package names and relative paths', async (t) => {
  const loader = new PluginLoader(fileURLToPath(new URL('.', import.meta.url)));
  t.equal(await loader.load('@enginegate/plugin-mock'), mockPlugin, 'a package name gives the package default export');
  const byPath = await loader.load('./fixtures/plugins/good-plugin.mjs');
  t.equal(byPath.name, 'good', 'a path relative to the working directory');
  await t.rejects(loader.load('./fixtures/plugins/wrong-shape.mjs'), {
    name: 'PluginLoadError',
    spec: './fixtures/plugins/wrong-shape.mjs',
  });
});

t.test('a folder loads through its package.json exports (import condition)', async (t) => {
  const loader = new PluginLoader(fileURLToPath(new URL('.', import.meta.url)));
  t.equal((await loader.load('./fixtures/plugins/folder-plugin')).name, 'folder');
  t.equal((await loader.load(fixture('folder-plugin'))).name, 'folder', 'an absolute folder too');
});

t.test('a package name that is nowhere: the message lists every place looked in', async (t) => {
  const cwd = fileURLToPath(new URL('./fixtures/', import.meta.url));
  const elsewhere = fileURLToPath(new URL('../../cli/', import.meta.url));
  const loader = new PluginLoader(cwd, [elsewhere]);
  const err = (await loader.load('enginegate-plugin-nowhere').catch((e: unknown) => e)) as PluginLoadError;
  t.match(err.message, /^plugin enginegate-plugin-nowhere was not found; looked in /);
  const places = err.message.slice(err.message.indexOf('looked in ') + 'looked in '.length).split(', ');
  t.equal(places[0], `${cwd}node_modules`, 'the working directory first');
  t.ok(places.includes(`${elsewhere}node_modules`), 'then the search paths');
  t.ok(places.indexOf(`${elsewhere}node_modules`) > places.indexOf(`${cwd}node_modules`));
});

t.test('a named plugin replaces a built-in of its name; two named of one name clash', async (t) => {
  const gw = await createGateway({
    port: 0,
    token: TOKEN,
    engine: 'mock',
    logger: false,
    builtinPlugins: [mockPlugin],
    plugins: [fixture('mock-replacement.mjs'), fixture('good-plugin.mjs'), fixture('folder-plugin/lib/entry.mjs')],
  });
  t.teardown(() => gw.close());
  t.same(gw.engines.available(), ['folder', 'good', 'mock']);
  t.same(await gw.engines.engineNamed('mock')!.containers(), [], 'the replacement serves, not the built-in');
  t.same(gw.pluginErrors, []);

  const clash = await createGateway({
    port: 0,
    token: TOKEN,
    engine: 'mock',
    logger: false,
    plugins: [fixture('good-plugin.mjs'), fixture('mock-replacement.mjs'), fixture('mock-replacement.mjs')],
    builtinPlugins: [mockPlugin, fixture('folder-plugin')],
  });
  t.teardown(() => clash.close());
  t.same(clash.pluginErrors, [], 'the same module named twice is loaded once');

  const twice = await createGateway({
    port: 0,
    token: TOKEN,
    engine: 'mock',
    logger: false,
    plugins: [fixture('folder-plugin'), fixture('folder-plugin/lib/../lib/entry.mjs'), fixture('mock-replacement.mjs')],
    builtinPlugins: [mockPlugin, { ...mockPlugin }],
  });
  t.teardown(() => twice.close());
  const messages = twice.pluginErrors.map((e) => e.message);
  t.equal(messages.length, 1, 'two built-ins of one name: the later refused');
  t.match(messages[0], /plugin \(object\) mock \(name "mock"\) clashes with \(object\) mock, which is loaded/);
  t.same(twice.engines.available(), ['folder', 'mock']);
});

t.test('two different named plugins of one name: the later is refused, naming both', async (t) => {
  const gw = await createGateway({
    port: 0,
    token: TOKEN,
    engine: 'mock',
    logger: false,
    builtinPlugins: [mockPlugin],
    plugins: [fixture('folder-plugin'), { ...(await new PluginLoader().load(fixture('folder-plugin'))) }],
  });
  t.teardown(() => gw.close());
  t.equal(gw.pluginErrors.length, 1);
  t.match(
    gw.pluginErrors[0]!.message,
    new RegExp(
      `plugin \\(object\\) folder \\(name "folder"\\) clashes with ${fixture('folder-plugin')}, .*load only one of them`,
    ),
  );
});

t.test('an initial engine that is not loaded is an error at start', async (t) => {
  await t.rejects(
    createGateway({ port: 0, token: TOKEN, logger: false, engine: 'moby', builtinPlugins: [mockPlugin] }),
    /engine "moby" is not loaded; the loaded engines are mock/,
  );
});

t.test('the gateway builds in no engine: without builtinPlugins only the named plugins load', async (t) => {
  const gw = await createGateway({ port: 0, token: TOKEN, logger: false, engine: null });
  t.teardown(() => gw.close());
  t.same(gw.engines.available(), [], 'no engine at all');
  const named = await createGateway({
    port: 0,
    token: TOKEN,
    logger: false,
    engine: null,
    plugins: [fixture('good-plugin.mjs')],
  });
  t.teardown(() => named.close());
  t.same(named.engines.available(), ['good']);
});
