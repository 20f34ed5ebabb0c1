// Containers as nerdctl makes them: labels (`nerdctl/name`, `nerdctl/state-dir`,
// `nerdctl/log-config`), a `binary://` logger writing json-file logs with rotation (a small
// logger of the harness's own), against a private containerd.
import t from 'tap';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeCursor } from '@enginegate/plugin-api';
import { containerdForTest, uniqueId, writeNerdctlStyleLogger } from '@enginegate/test-harness/containerd';
import { ALL, FOLLOW, lines, readAll, startEngine } from './fixtures/engine-support.js';

// Real daemons on a loaded 2-core CI machine: more than tap's default 30 s per file.
t.setTimeout(120_000);

const cd = await containerdForTest(t);
if (cd) {
  const { engine, logger } = await startEngine(cd);
  t.teardown(() => engine.stop());
  const dataStore = join(cd.logDir, 'nerdctl', '1935db59');
  const loggerUri = await writeNerdctlStyleLogger(cd.dir, dataStore);
  const stateDirOf = (id: string, ns = cd.namespace) => join(dataStore, 'containers', ns, id);

  /** Runs a container the way `nerdctl run -d --name NAME` does, with the pre-2.1 log-config.json. */
  async function nerdctlRun(
    name: string,
    script: string,
    logConfig: object = { driver: 'json-file' },
    ns = cd!.namespace,
  ) {
    const id = uniqueId('n').replace('-', '') + '0'.repeat(40);
    await mkdir(stateDirOf(id, ns), { recursive: true });
    await writeFile(join(stateDirOf(id, ns), 'log-config.json'), JSON.stringify(logConfig));
    await cd!.runTask({
      id,
      namespace: ns,
      script,
      logUri: loggerUri,
      labels: { 'nerdctl/name': name, 'nerdctl/state-dir': stateDirOf(id, ns) },
    });
    return id;
  }

  const script60 =
    'sleep 0.4; i=0; while [ $i -lt 60 ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.01; done; exit 3';
  const expected = (prefix: string) => Array.from({ length: 60 }, (_, i) => `${prefix} ${i}`);

  t.test('found by name; stdout and stderr apart; two rotations during a follow lose no line', async (t) => {
    const id = await nerdctlRun('web', script60, {
      driver: 'json-file',
      opts: { 'max-size': '3000', 'max-file': '5' },
    });
    const abort = new AbortController();
    const records = await readAll(await engine.logs.open({ ref: 'web' }, FOLLOW, abort.signal), { abort });
    t.same(lines(records, 'stdout'), expected('out'));
    t.same(lines(records, 'stderr'), expected('err'));
    t.same(records.at(-1), { type: 'exit', exitCode: 3, arrivedAt: records.at(-1)!.arrivedAt });
    const { readdir } = await import('node:fs/promises');
    const files = (await readdir(stateDirOf(id))).filter((f) => f.includes('-json.log'));
    t.ok(files.length >= 3, `the logger rotated at least twice (${files.join(', ')})`);
    t.ok(
      records.every((r) => r.type !== 'line' || typeof r.time === 'bigint'),
      'json-file lines carry their times',
    );

    // The history, across the rotated files, in order; and by ID prefix.
    const history = await readAll(await engine.logs.open({ ref: id.slice(0, 10) }, ALL, abort.signal));
    t.same(lines(history, 'stdout'), expected('out'), 'history across .N files');
    t.same(lines(history, 'stderr'), expected('err'));
    const tail = await readAll(
      await engine.logs.open({ ref: 'web' }, { ...ALL, tail: 3, stdout: false }, abort.signal),
    );
    t.same(lines(tail), ['err 57', 'err 58', 'err 59'], 'tail counts the selected stream');

    // after= resumes exactly: nothing repeated, nothing skipped, even from a rotated file.
    const cut = history.filter((r) => r.type === 'line')[17] as { cursor: string };
    const rest = await readAll(
      await engine.logs.open({ ref: 'web' }, { ...ALL, after: decodeCursor(cut.cursor) }, abort.signal),
    );
    const allLines = history.filter((r) => r.type === 'line').map((r) => r.text);
    t.same(
      rest.filter((r) => r.type === 'line').map((r) => r.text),
      allLines.slice(18),
    );

    // since: only lines stamped at or after it.
    const mid = history.filter((r) => r.type === 'line')[60] as { time: bigint };
    const since = await readAll(await engine.logs.open({ ref: 'web' }, { ...ALL, since: mid.time }, abort.signal));
    t.same(
      since.filter((r) => r.type === 'line').map((r) => r.text),
      allLines.slice(60),
    );
  });

  t.test('nerdctl ≥ 2.1 (log config in a label) and the logger URI alone', async (t) => {
    const id = uniqueId('lbl').replace('-', '') + '0'.repeat(40);
    await cd.runTask({
      id,
      script: 'echo hello; echo oops >&2',
      logUri: loggerUri,
      labels: {
        'nerdctl/name': 'labelled',
        'nerdctl/state-dir': stateDirOf(id),
        'nerdctl/log-config': '{"driver":"json-file"}',
      },
    });
    await cd.waitForTaskStopped(id);
    const records = await readAll(await engine.logs.open({ ref: 'labelled' }, ALL, new AbortController().signal));
    t.same(lines(records, 'stdout'), ['hello']);
    t.same(lines(records, 'stderr'), ['oops']);

    const bare = uniqueId('bare').replace('-', '') + '0'.repeat(40);
    await cd.runTask({ id: bare, script: 'echo from-uri', logUri: loggerUri });
    await cd.waitForTaskStopped(bare);
    const viaUri = await readAll(await engine.logs.open({ ref: bare }, ALL, new AbortController().signal));
    t.same(lines(viaUri), ['from-uri'], 'the state dir derived from _NERDCTL_INTERNAL_LOGGING');
  });

  t.test('a label pointing at /etc/shadow is refused, and so is a symlink to it', async (t) => {
    const warnings = logger.at('warn').length;
    const id = uniqueId('evil');
    await cd.runTask({
      id,
      script: 'true',
      labels: {
        'nerdctl/name': 'evil',
        'nerdctl/state-dir': join(dataStore, 'containers', 'x', id),
        'nerdctl/log-config': JSON.stringify({ driver: 'json-file', opts: { 'log-path': '/etc/shadow' } }),
      },
    });
    const signal = new AbortController().signal;
    await t.rejects(engine.logs.open({ ref: 'evil' }, ALL, signal), {
      code: 'LOGS_UNSUPPORTED',
      message: /\/etc\/shadow is outside the log roots/,
    });

    const sneaky = uniqueId('sneaky');
    const stateDir = join(dataStore, 'containers', 'x', sneaky);
    await mkdir(stateDir, { recursive: true });
    await symlink('/etc/shadow', join(stateDir, `${sneaky}-json.log`));
    await cd.runTask({
      id: sneaky,
      script: 'true',
      labels: { 'nerdctl/name': 'sneaky', 'nerdctl/state-dir': stateDir, 'nerdctl/log-config': '{}' },
    });
    await t.rejects(engine.logs.open({ ref: 'sneaky' }, ALL, signal), {
      code: 'LOGS_UNSUPPORTED',
      message: /resolves to \/etc\/shadow/,
    });
    t.equal(logger.at('warn').length - warnings, 2, 'each refusal is logged at warn');
  });

  t.test('write-only drivers are 501', async (t) => {
    const id = uniqueId('fluent');
    await cd.runTask({
      id,
      script: 'true',
      labels: {
        'nerdctl/name': 'fluent',
        'nerdctl/state-dir': stateDirOf(id),
        'nerdctl/log-config': '{"driver":"fluentd"}',
      },
    });
    await t.rejects(engine.logs.open({ ref: 'fluent' }, ALL, new AbortController().signal), {
      code: 'LOGS_UNSUPPORTED',
      statusCode: 501,
      message: /fluentd/,
    });
  });

  t.test('one name in two namespaces is ambiguous unless ?namespace= picks one', async (t) => {
    const other = `${cd.namespace}-b`;
    const a = await nerdctlRun('twin', 'echo in-a');
    const b = await nerdctlRun('twin', 'echo in-b', { driver: 'json-file' }, other);
    await cd.waitForTaskStopped(a);
    await cd.waitForTaskStopped(b, other);
    const signal = new AbortController().signal;
    await t.rejects(engine.logs.open({ ref: 'twin' }, ALL, signal), {
      code: 'AMBIGUOUS_CONTAINER',
      statusCode: 409,
      candidates: [`${cd.namespace}/twin (${a.slice(0, 12)})`, `${other}/twin (${b.slice(0, 12)})`].sort(),
    });
    const picked = await readAll(await engine.logs.open({ ref: 'twin', namespace: other }, ALL, signal));
    t.same(lines(picked), ['in-b']);
  });
}
