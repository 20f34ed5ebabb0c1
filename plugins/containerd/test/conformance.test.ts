// The testkit's LogSource conformance suite, through the gateway, against a private containerd:
// its containers are nerdctl-style tasks (labels, a `binary://` json-file logger) that write
// exactly the bytes the suite asks for.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import containerdPlugin, { type ContainerdEngine } from '@enginegate/plugin-containerd';
import { runConformanceSuite } from '@enginegate/testkit';
import { containerdForTest, writeNerdctlStyleLogger } from '@enginegate/test-harness/containerd';

// Real containers for ~20 scenarios on a loaded 2-core CI machine.
t.setTimeout(300_000);

const cd = await containerdForTest(t);
if (cd) {
  const dataStore = join(cd.logDir, 'nerdctl', 'c0ffee00');
  const loggerUri = await writeNerdctlStyleLogger(cd.dir, dataStore);
  await runConformanceSuite(t, {
    name: 'containerd',
    plugin: containerdPlugin,
    pluginConfig: { address: cd.address, logRoots: [cd.logDir], pollIntervalMs: 100 },
    capabilities: { tty: false, binarySafe: false },
    capabilityNotes: {
      tty: 'ctr cannot start a detached TTY task with a log URI (it attaches a console), and nerdctl is not available here',
      binarySafe: 'json-file (nerdctl) stores lines as JSON strings: bytes that are not UTF-8 become U+FFFD',
    },
    async createContainer(lines, options, { name }) {
      const id = randomBytes(32).toString('hex');
      const stateDir = join(dataStore, 'containers', cd.namespace, id);
      await mkdir(stateDir, { recursive: true });
      await writeFile(join(stateDir, 'log-config.json'), JSON.stringify({ driver: 'json-file' }));
      // The lines go into files the script cats: exact bytes, no quoting, no argument limits.
      const script: string[] = [];
      for (const [i, line] of lines.entries()) {
        const file = `/tmp/${id}.${i}`;
        await writeFile(join(cd.rootfs, file), Buffer.concat([line.bytes, Buffer.from('\n')]));
        script.push(`cat ${file}${line.stream === 'stderr' ? ' >&2' : ''}`);
        if (options.intervalMs) script.push(`sleep ${(options.intervalMs / 1000).toFixed(3)}`);
      }
      script.push(options.exitCode === undefined ? 'exec sleep 100000' : `exit ${options.exitCode}`);
      await writeFile(join(cd.rootfs, 'tmp', `${id}.sh`), script.join('\n') + '\n');
      await cd.runTask({
        id,
        script: `/bin/sh /tmp/${id}.sh`,
        logUri: loggerUri,
        labels: { 'nerdctl/name': name, 'nerdctl/state-dir': stateDir },
      });
      return {
        ref: name,
        async remove() {
          await cd.ctr(['-n', cd.namespace, 'tasks', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
          await cd.ctr(['-n', cd.namespace, 'tasks', 'rm', '-f', id]).catch(() => undefined);
          await cd.ctr(['-n', cd.namespace, 'containers', 'rm', id]).catch(() => undefined);
        },
      };
    },
    engineHandle: { stop: () => cd.stop(), start: () => cd.start() },
    countOpenStreams: (engine) => (engine as ContainerdEngine).resources.openStreams,
  });
}
