// The moby plugin pointed at Podman's Docker-compatible API (`/v1.40/...`, the same socket as
// the libpod API) beside the podman plugin, on the same containers of one private
// `podman system service`: what works the same, and where the moby plugin's Docker rules give
// wrong lines on Podman (plugins/podman/README.md has the comparison). Every assertion names
// what was observed with Podman 4.3; should Podman or the moby plugin change, this test says so.
import t from 'tap';
import type { LogOptions } from '@enginegate/plugin-api';
import { AmbiguousContainerError, ContainerNotFoundError } from '@enginegate/plugin-api';
import { MobyEngine } from '@enginegate/plugin-moby';
import { PodmanEngine } from '@enginegate/plugin-podman';
import { collect, lineRecords, recordingLogger } from '@enginegate/test-harness/log-records';
import { podmanForTest, runBusybox, waitForExitCode, type PrivatePodman } from '@enginegate/test-harness/podman';

const ALL: LogOptions = { follow: false, stdout: true, stderr: true };
const FOLLOW: LogOptions = { follow: true, stdout: true, stderr: true };
t.setTimeout(240_000);

const podman = await podmanForTest(t);
if (podman) await suite(podman);

async function suite(podman: PrivatePodman): Promise<void> {
  const moby = new MobyEngine({
    config: { dockerSocket: podman.socket },
    logger: recordingLogger(),
    reportHealth: () => {},
  });
  const native = new PodmanEngine({
    config: { podmanSocket: podman.socket },
    logger: recordingLogger(),
    reportHealth: () => {},
  });
  await moby.start();
  await native.start();
  t.teardown(async () => {
    await moby.stop();
    await native.stop();
  });
  const read = async (engine: MobyEngine | PodmanEngine, ref: string, options: LogOptions) =>
    (await collect(await engine.logs.open({ ref }, options, new AbortController().signal))).records;
  const texts = async (engine: MobyEngine | PodmanEngine, ref: string, options = ALL) =>
    lineRecords(await read(engine, ref, options)).map((r) => r.line.toString('latin1'));

  t.test('the same: lines of both streams, a followed exit, whole-second times, a 40 KiB line', async (t) => {
    const id = await runBusybox(
      podman,
      'echo one; echo err >&2; head -c 40000 /dev/zero | tr "\\0" T; echo; printf "out-part "; echo "err line" >&2; echo out-end; exit 4',
    );
    const [viaMoby, viaPodman] = [await read(moby, id, FOLLOW), await read(native, id, FOLLOW)];
    const shape = (records: typeof viaMoby) =>
      records.map((r) => (r.type === 'line' ? `${r.stream}:${r.line.length}:${r.line.subarray(0, 8).toString()}` : r));
    t.same(shape(viaMoby), shape(viaPodman), 'the moby plugin reads the same records and exit code through /v1.40');
    t.ok(
      lineRecords(viaMoby).every((r) => r.time! % 1_000_000_000n === 0n),
      'the compatible API has whole-second times too',
    );
    t.same(viaMoby.at(-1), { type: 'exit', exitCode: 4 });
  });

  t.test('differs: a line written over several seconds', async (t) => {
    const id = await runBusybox(
      podman,
      'echo before; printf "progress "; sleep 1.2; printf "50%% "; sleep 1.2; echo done',
    );
    await waitForExitCode(podman, id);
    t.same(await texts(native, id), ['before', 'progress 50% done'], 'podman plugin: one line');
    t.same(
      await texts(moby, id),
      ['before', 'progress ', '50% ', 'done'],
      'moby plugin: three lines (Docker stamps every piece of a line alike, so it takes a new time for a new line)',
    );
    t.same(await texts(native, id, { ...ALL, tail: 1 }), ['progress 50% done'], 'podman plugin: tail=1 is that line');
    const mobyTail = await texts(moby, id, { ...ALL, tail: 1 });
    t.ok(
      mobyTail.at(-1) === 'done' && !mobyTail.includes('progress 50% done'),
      `moby plugin: tail=1 gives pieces of it (${JSON.stringify(mobyTail)})`,
    );
  });

  t.test('differs: a TTY line over 8 KiB', async (t) => {
    const id = await runBusybox(podman, 'head -c 20000 /dev/zero | tr "\\0" T; echo', { tty: true });
    await waitForExitCode(podman, id);
    const [nativeLine] = await texts(native, id);
    const [mobyLine] = await texts(moby, id);
    t.equal(nativeLine, `${'T'.repeat(20000)}\r`, 'podman plugin: the line as the terminal wrote it');
    t.match(
      mobyLine,
      /^T+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ T+/,
      `moby plugin: Podman's timestamps of the 8 KiB pieces stay inside the line (${mobyLine!.length} bytes): Docker stamps TTY pieces every 16 KiB`,
    );
  });

  t.test('differs: an ID prefix shared by two containers', async (t) => {
    const ids = await Promise.all(Array.from({ length: 17 }, () => runBusybox(podman, 'true', { start: false })));
    t.teardown(() => podman.podman(['rm', '--force', ...ids]).then(() => undefined));
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id[0]!, (counts.get(id[0]!) ?? 0) + 1);
    const prefix = [...counts].find(([, n]) => n > 1)![0];
    await t.rejects(
      native.logs.open({ ref: prefix }, ALL, new AbortController().signal),
      AmbiguousContainerError,
      'podman plugin: 409',
    );
    await t.rejects(
      moby.logs.open({ ref: prefix }, ALL, new AbortController().signal),
      ContainerNotFoundError,
      "moby plugin: 404 (Podman's compatible API answers 404 with its own words, not Docker's)",
    );
  });

  t.test('differs: containers() — labels and pods only from the podman plugin', async (t) => {
    await podman.podman(['pod', 'create', '--name=egp-compat-pod']);
    t.teardown(() => podman.podman(['pod', 'rm', '--force', '--time=0', 'egp-compat-pod']).then(() => undefined));
    const id = await runBusybox(podman, 'sleep 60', { pod: 'egp-compat-pod', labels: { tier: 'db' } });
    const nativeInfo = (await native.containers()).find((c) => c.id === id);
    const mobyInfo = (await moby.containers()).find((c) => c.id === id);
    t.match(nativeInfo, { labels: { tier: 'db' }, pod: { name: 'egp-compat-pod' } });
    t.ok(mobyInfo, 'the moby plugin lists the container too');
    t.notOk(mobyInfo && 'pod' in mobyInfo, 'without its pod');
  });
}
