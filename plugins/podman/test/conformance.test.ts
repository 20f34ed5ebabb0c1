// The LogSource conformance suite (@enginegate/testkit) against the podman plugin and a private
// `podman system service`. Containers are busybox shells that printf the suite's bytes; the
// script comes in through a read-only bind mount (it is too big for an argument).
import t from 'tap';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runConformanceSuite } from '@enginegate/testkit';
import podmanPlugin, { PodmanEngine } from '@enginegate/plugin-podman';
import { linesScript } from '@enginegate/test-harness/lines-script';
import { podmanForTest, runBusybox, type PrivatePodman } from '@enginegate/test-harness/podman';

t.setTimeout(300_000);
const podman = await podmanForTest(t);
if (podman) await suite(podman);

async function suite(podman: PrivatePodman): Promise<void> {
  const scripts = join(podman.dir, 'scripts');
  await mkdir(scripts, { recursive: true });
  await runConformanceSuite(t, {
    name: 'podman',
    plugin: podmanPlugin,
    pluginConfig: { podmanSocket: podman.socket },
    async createContainer(lines, options, { name }) {
      await writeFile(join(scripts, `${name}.sh`), Buffer.from(linesScript(lines, options), 'latin1'));
      const id = await runBusybox(podman, `exec sh /scripts/${name}.sh`, {
        name,
        tty: options.tty === true,
        volumes: [`${scripts}:/scripts:ro`],
      });
      return {
        ref: name,
        remove: () =>
          podman
            .podman(['rm', '--force', '--time=0', id])
            .then(() => undefined)
            .catch(() => undefined),
      };
    },
    engineHandle: { stop: () => podman.stop(), start: () => podman.start() },
    countOpenStreams: (engine) => (engine as PodmanEngine).openStreamCount,
  });
}
