// Kubernetes pods through the CRI plugin of a private containerd (created over the CRI gRPC
// API as the kubelet does): the log path comes from the container's CRI metadata extension;
// lines CRI split into P/F pieces are delivered whole; kubelet-style rotation is followed.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { containerdForTest } from '@enginegate/test-harness/containerd';
import { CriClient } from '@enginegate/test-harness/containerd-cri';
import { ALL, FOLLOW, lines, readAll, startEngine } from './fixtures/engine-support.js';

// Real daemons on a loaded 2-core CI machine: more than tap's default 30 s per file.
t.setTimeout(120_000);

const run = promisify(execFile);
// CRI writes lines longer than this as P pieces followed by an F piece.
const MAX_LINE = 64;

const cd = await containerdForTest(t, { cri: true, maxContainerLogLineSize: MAX_LINE });
if (cd) {
  const cri = new CriClient(cd.address);
  t.teardown(() => cri.close());
  await cri.ready();
  const { engine } = await startEngine(cd);
  t.teardown(() => engine.stop());

  t.test('log path from the CRI extension, split lines re-joined, exit code at the end', async (t) => {
    const pod = await cri.runPod({ name: 'web', logDirectory: join(cd.logDir, 'pods', 'default_web_1') });
    t.teardown(() => cri.removePod(pod));
    const long = 'x'.repeat(50) + 'y'.repeat(100) + 'é'.repeat(40) + '-end';
    const { id } = await cri.startContainer(pod, {
      name: 'app',
      script: `sleep 0.3; echo short; echo '${long}'; echo err >&2; exit 5`,
    });
    const abort = new AbortController();
    const records = await readAll(await engine.logs.open({ ref: 'app' }, FOLLOW, abort.signal), { abort });
    t.same(lines(records, 'stdout'), ['short', long], 'a line CRI wrote in pieces arrives whole');
    t.same(lines(records, 'stderr'), ['err']);
    t.same(records.at(-1)!.type, 'exit');
    t.same((records.at(-1) as { exitCode?: number }).exitCode, 5);
    t.ok(
      records.every((r) => r.type !== 'line' || r.partial === undefined),
      'no partial lines',
    );

    // By pod name (its sandbox container is not a candidate) and by ID, after the task is gone.
    // (stdout and stderr are written by separate goroutines: only the order within a stream is fixed)
    const byPod = await readAll(await engine.logs.open({ ref: 'web' }, ALL, abort.signal));
    t.same([lines(byPod, 'stdout'), lines(byPod, 'stderr')], [['short', long], ['err']]);
    const byId = await readAll(
      await engine.logs.open({ ref: id, namespace: 'k8s.io' }, { ...ALL, tail: 1, stderr: false }, abort.signal),
    );
    t.same(lines(byId), [long]);
  });

  t.test('kubelet-style rotation (rename + ReopenContainerLog, then gzip) during a follow loses no line', async (t) => {
    const pod = await cri.runPod({ name: 'rot', logDirectory: join(cd.logDir, 'pods', 'default_rot_2') });
    t.teardown(() => cri.removePod(pod));
    const { id, logPath } = await cri.startContainer(pod, {
      name: 'rotating',
      script: 'i=0; while [ $i -lt 45 ]; do echo "n $i"; i=$((i+1)); sleep 0.04; done',
    });
    const abort = new AbortController();
    const reading = readAll(await engine.logs.open({ ref: 'rotating' }, FOLLOW, abort.signal), { abort });
    await new Promise((r) => setTimeout(r, 600));
    const first = await cri.rotateLog(id, logPath, new Date(Date.UTC(2024, 0, 2, 15, 4, 1)));
    await new Promise((r) => setTimeout(r, 600));
    await cri.rotateLog(id, logPath, new Date(Date.UTC(2024, 0, 2, 15, 4, 2)));
    await run('gzip', [first]); // the kubelet compresses all but the newest rotated file
    const records = await reading;
    const expected = Array.from({ length: 45 }, (_, i) => `n ${i}`);
    t.same(lines(records), expected, 'every line once, in order, across two rotations');
    t.same(records.at(-1), { type: 'exit', exitCode: 0, arrivedAt: records.at(-1)!.arrivedAt });

    const files = (await readdir(dirname(logPath))).sort();
    t.same(files, ['0.log', '0.log.20240102-150401.gz', '0.log.20240102-150402']);
    const history = await readAll(await engine.logs.open({ ref: 'rotating' }, ALL, abort.signal));
    t.same(lines(history), expected, 'history through the .gz, the rotated and the live file');
    const tail = await readAll(await engine.logs.open({ ref: 'rotating' }, { ...ALL, tail: 44 }, abort.signal));
    t.same(lines(tail), expected.slice(1), 'tail reaching back into the compressed file');
  });
}
