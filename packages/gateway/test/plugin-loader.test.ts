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
  t.match(messages[4], /missing\.mjs failed to import/);
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

t.test('an initial engine that is not loaded is an error at start', async (t) => {
  await t.rejects(
    createGateway({ port: 0, token: TOKEN, logger: false, engine: 'moby' }),
    /engine "moby" is not loaded; the loaded engines are mock/,
  );
});
