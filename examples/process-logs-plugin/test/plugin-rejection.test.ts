import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createGateway } from '@enginegate/gateway';
import mockPlugin from '@enginegate/plugin-mock';
import { LogsClient } from '@enginegate/testkit';

const fixture = (file: string) => fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
const PROCESS_LOGS_PLUGIN = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Each broken plugin, and what the refusal must say about it. */
const BROKEN: Array<{ file: string; says: RegExp }> = [
  {
    file: 'throws-in-register.mjs',
    says: /\(name "throws-in-register"\) failed in register: cannot reach the imaginary daemon/,
  },
  {
    file: 'wrong-api-version.mjs',
    says: /\(name "from-the-future"\) is written for plugin API version 2; this gateway supports 1/,
  },
  { file: 'default-export-function.mjs', says: /has no default export object \(got function\)/ },
  { file: 'missing-register.mjs', says: /\(name "missing-register"\) has no register function/ },
  {
    file: 'engine-without-logs.mjs',
    says: /\(name "engine-without-logs"\) returned no usable engine from register: it has no logs\.open\(\) method/,
  },
];

t.test('broken plugins are refused by name at start; the gateway serves mock and the good plugin', async (t) => {
  const logLines: Array<{ level: number; msg: string; plugin?: string; err?: string }> = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logLines.push(JSON.parse(line));
      done();
    },
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'enginegate-rejection-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const gateway = await createGateway({
    host: '127.0.0.1',
    port: 0,
    token: 'rejection-test-token',
    stateDir,
    plugins: [...BROKEN.map(({ file }) => fixture(file)), PROCESS_LOGS_PLUGIN],
    engine: 'mock',
    builtinPlugins: [mockPlugin],
    logger: { level: 'info', stream: logStream },
  });
  t.teardown(() => gateway.close());
  const client = new LogsClient(await gateway.listen(), 'rejection-test-token');

  t.equal(gateway.pluginErrors.length, BROKEN.length, 'every broken plugin is refused, and only those');
  for (const { file, says } of BROKEN) {
    const path = fixture(file);
    const refusal = gateway.pluginErrors.find((err) => err.spec === path);
    t.ok(refusal, `${file} is refused`);
    t.ok(refusal?.message.includes(path), `${file}: the message names the plugin by its path`);
    t.match(refusal?.message ?? '', says, `${file}: the message says what is wrong`);
    const logged = logLines.find((line) => line.plugin === path);
    t.equal(logged?.level, 50, `${file}: the refusal is logged at error, where an operator sees it`);
    t.match(logged?.err ?? '', says, `${file}: the log line carries the reason`);
  }

  const engine = await client.request('GET', '/engine');
  t.match(
    engine.json,
    { name: 'mock', state: 'running', available: ['mock', 'process-logs'] },
    'mock runs; the good plugin is loaded beside it',
  );
  const logs = await client.readHttp('mock-chatty', { follow: false, tail: 2 });
  t.equal(logs.status, 200, 'mock serves logs');
  t.equal(logs.body.toString().split('\n').filter(Boolean).length, 2, 'tail=2 gives 2 lines');

  const refused = await client.request('PUT', '/engine', { name: 'throws-in-register' });
  t.equal(refused.status, 400, 'a refused plugin cannot be switched to');
  const switched = await client.request('PUT', '/engine', { name: 'process-logs' });
  t.match(switched.json, { name: 'process-logs', state: 'running' }, 'the good plugin can be switched to');
});
