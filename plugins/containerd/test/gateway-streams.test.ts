// Through the gateway (HTTP and WebSocket framings) against a private containerd with CRI:
// `ctr --log-uri file://` live until exit, a nerdctl-style json-file log rotating during the
// follow, a CRI pod with split lines, and a label pointing outside the log roots.
import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdForTest, uniqueId, writeNerdctlStyleLogger } from '@enginegate/test-harness/containerd';
import { CriClient } from '@enginegate/test-harness/containerd-cri';
import { startGateway } from './fixtures/gateway.js';

// Real daemons on a loaded 2-core CI machine: more than tap's default 30 s per file.
t.setTimeout(120_000);

const cd = await containerdForTest(t, { cri: true, maxContainerLogLineSize: 64 });
if (cd) {
  const { gw, client } = await startGateway(cd);
  t.teardown(() => gw.close());

  t.test('ctr --log-uri file://: lines live over WebSocket, exit record, close 1000', async (t) => {
    const id = uniqueId('ws');
    await cd.runTask({
      id,
      logUri: `file://${join(cd.logDir, `${id}.log`)}`,
      script: 'for i in 1 2 3 4; do echo tick $i; sleep 0.25; done; exit 6',
    });
    const stream = await client.openSocket(id, { follow: true }, 'json');
    const result = await stream.closed;
    const objects = stream.jsonMessages();
    t.same(
      objects.filter((o) => o.type === 'line').map((o) => o.line),
      ['tick 1', 'tick 2', 'tick 3', 'tick 4'],
    );
    t.same(objects.at(-1), { type: 'exit', exitCode: 6 });
    t.equal(result.code, 1000);
    t.ok(stream.messages[0]!.at < stream.messages.at(-1)!.at - 500, 'the first line was sent while the task ran');

    const raw = await client.openSocket(id, { follow: false }, 'raw');
    await raw.closed;
    t.same(
      Buffer.concat(raw.messages.map((m) => m.data)).toString(),
      'tick 1\ntick 2\ntick 3\ntick 4\n',
      'raw framing',
    );
    const http = await client.get(`/passthrough/engine/logs/${id}?follow=false&tail=2`);
    t.equal(http.status, 200);
    t.equal(http.text, 'tick 3\ntick 4\n');
  });

  t.test('nerdctl json-file: by name, stdout/stderr apart, rotations during the follow lose nothing', async (t) => {
    const dataStore = join(cd.logDir, 'nerdctl', 'abcdef12');
    const uri = await writeNerdctlStyleLogger(cd.dir, dataStore);
    const id = uniqueId('gw').replace('-', '') + 'f'.repeat(40);
    const stateDir = join(dataStore, 'containers', cd.namespace, id);
    await mkdir(stateDir, { recursive: true });
    await writeFile(
      join(stateDir, 'log-config.json'),
      JSON.stringify({ driver: 'json-file', opts: { 'max-size': '2000', 'max-file': '4' } }),
    );
    await cd.runTask({
      id,
      logUri: uri,
      labels: { 'nerdctl/name': 'gw-web', 'nerdctl/state-dir': stateDir },
      script: 'sleep 0.3; i=0; while [ $i -lt 40 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.01; done',
    });
    const stream = await client.openSocket('gw-web', { follow: true }, 'binary');
    const result = await stream.closed;
    const frames = stream.messages.map((m) => m.data);
    const out = frames.filter((f) => f[0] === 1).map((f) => f.subarray(1).toString());
    const err = frames.filter((f) => f[0] === 2).map((f) => f.subarray(1).toString());
    t.same(
      out,
      Array.from({ length: 40 }, (_, i) => `out ${i}`),
    );
    t.same(
      err,
      Array.from({ length: 40 }, (_, i) => `err ${i}`),
    );
    t.same(JSON.parse(frames.at(-1)!.subarray(1).toString()), { type: 'exit', exitCode: 0 });
    t.equal(result.code, 1000);
  });

  t.test('a CRI pod: the line CRI split arrives whole over v1.text', async (t) => {
    const cri = new CriClient(cd.address);
    t.teardown(() => cri.close());
    await cri.ready();
    const pod = await cri.runPod({ name: 'gwpod', logDirectory: join(cd.logDir, 'pods', 'default_gwpod_1') });
    t.teardown(() => cri.removePod(pod));
    const long = 'L'.repeat(200);
    await cri.startContainer(pod, { name: 'gwapp', script: `sleep 0.2; echo first; echo ${long}; echo last` });
    const stream = await client.openSocket('gwapp', { follow: true, namespace: 'k8s.io' }, 'text');
    const result = await stream.closed;
    t.same(stream.texts(), ['first', long, 'last']);
    t.equal(result.code, 1000);
  });

  t.test('errors are HTTP statuses before any upgrade', async (t) => {
    const id = uniqueId('shadow');
    await cd.runTask({
      id,
      script: 'true',
      labels: {
        'nerdctl/name': 'shadow',
        'nerdctl/state-dir': join(cd.logDir, 'x'),
        'nerdctl/log-config': JSON.stringify({ driver: 'json-file', opts: { 'log-path': '/etc/shadow' } }),
      },
    });
    const refused = await client.get('/passthrough/engine/logs/shadow');
    t.equal(refused.status, 501);
    t.match(refused.json, { error: { code: 'LOGS_UNSUPPORTED', message: /outside the log roots/ } });
    t.notMatch(refused.text, /root:/, 'nothing of the file leaks');
    await t.rejects(client.openSocket('shadow', {}, 'json'), { message: /^HTTP 501/ }, 'the upgrade is refused');
    t.equal((await client.get('/passthrough/engine/logs/nope')).status, 404);
    t.equal((await client.get(`/passthrough/engine/logs/${id}?since=soon`)).status, 400);
  });

  t.test('containers are listed', async (t) => {
    const list = await client.get('/passthrough/engine/containers');
    t.equal(list.status, 200);
    const body = list.json;
    const containers = Array.isArray(body) ? body : body.containers;
    t.ok(
      containers.some(
        (c: { names: string[]; namespace: string }) => c.names.includes('gw-web') && c.namespace === cd.namespace,
      ),
    );
  });
}
