// A plugin's settings schema: validated at load with defaults filled and strings coerced; the
// given settings over ENGINEGATE_<NAME>_<KEY> over the file layer; mistakes name plugin and key.
import t from 'tap';
import { MockEngine } from '@enginegate/plugin-mock';
import type { EnginePlugin } from '@enginegate/plugin-api';
import { createGateway, settingEnvName } from '@enginegate/gateway';
import { TOKEN } from './fixtures/harness.js';

function settingsPlugin(seen: Array<Readonly<Record<string, unknown>>>): EnginePlugin {
  return {
    name: 'my-files',
    apiVersion: 1,
    settings: {
      type: 'object',
      properties: {
        dir: { type: 'string', description: 'where the files are' },
        maxFiles: { type: 'integer', default: 10 },
        follow: { type: 'boolean', default: true },
      },
      required: ['dir'],
      additionalProperties: false,
    },
    register(_container, options) {
      seen.push(options.config);
      return new MockEngine({ logger: options.logger, builtinContainers: false });
    },
  };
}

const gatewayWith = (plugin: EnginePlugin, extra: object) =>
  createGateway({ port: 0, token: TOKEN, logger: false, engine: null, plugins: [plugin], ...extra });

t.test('environment names', async (t) => {
  t.equal(settingEnvName('my-files', 'maxFiles'), 'ENGINEGATE_MY_FILES_MAX_FILES');
  t.equal(settingEnvName('my', 'dir'), 'ENGINEGATE_MY_DIR');
});

t.test('defaults, coercion and the three layers in their precedence', async (t) => {
  const seen: Array<Readonly<Record<string, unknown>>> = [];
  const gw = await gatewayWith(settingsPlugin(seen), {
    pluginConfig: { 'my-files': { dir: '/from/flag' } },
    pluginSettingSources: {
      env: {
        ENGINEGATE_MY_FILES_DIR: '/from/env',
        ENGINEGATE_MY_FILES_MAX_FILES: '25',
        ENGINEGATE_MY_FILES_OTHER: 'x',
      },
      file: { 'my-files': { dir: '/from/file', follow: 'false' } },
    },
  });
  t.teardown(() => gw.close());
  t.same(gw.pluginErrors, []);
  t.same(seen, [{ dir: '/from/flag', maxFiles: 25, follow: false }], 'flag > env > file; "25" → 25, "false" → false');
  t.ok(Object.isFrozen(seen[0]));

  const seenDefaults: Array<Readonly<Record<string, unknown>>> = [];
  const defaults = await gatewayWith(settingsPlugin(seenDefaults), {
    pluginSettingSources: { file: { 'my-files': { dir: '/from/file' } } },
  });
  t.teardown(() => defaults.close());
  t.same(seenDefaults, [{ dir: '/from/file', maxFiles: 10, follow: true }], 'defaults filled');
});

t.test('wrong settings refuse the plugin, naming it and every key', async (t) => {
  const seen: Array<Readonly<Record<string, unknown>>> = [];
  const gw = await gatewayWith(settingsPlugin(seen), {
    pluginConfig: { 'my-files': { maxFiles: 'many', colour: 'red' } },
  });
  t.teardown(() => gw.close());
  t.same(seen, [], 'register is not called');
  t.equal(gw.pluginErrors.length, 1);
  const message = gw.pluginErrors[0]!.message;
  t.match(message, /^plugin \(object\) my-files \(name "my-files"\) has wrong settings: /);
  t.match(message, /setting dir must have required property 'dir'/);
  t.match(message, /setting colour is not one this plugin has/);
  t.match(message, /setting maxFiles must be integer/);
  t.notOk(gw.engines.has('my-files'));
});
