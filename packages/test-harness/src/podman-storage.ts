// Where a private Podman keeps everything — storage, state, tmp dir, networks, events — all below
// one directory: the podman flags and environment that say so, and the config files they name.
// Nothing of the machine's own Podman (/etc/containers, /var/lib/containers, /run/libpod) is
// read or written.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The global flags that keep every podman command (service and CLI alike) below `dir`. */
export function podmanGlobalArgs(dir: string): string[] {
  return [
    `--root=${dir}/root`,
    `--runroot=${dir}/run`,
    // Stored in the new database with the first command: /run/libpod is never used.
    `--tmpdir=${dir}/tmp`,
    `--network-config-dir=${dir}/net`,
    '--storage-driver=overlay',
    '--cgroup-manager=cgroupfs',
    '--events-backend=file',
  ];
}

/** The environment podman runs with: only the private config files, never the machine's. */
export function podmanEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
  };
}

/** Writes the config files podmanEnv names; pods run `infraImage` (its default command) as their infra container. */
export async function writePodmanConfig(dir: string, infraImage: string): Promise<void> {
  await mkdir(join(dir, 'net'), { recursive: true });
  const containersConf = [
    '[containers]',
    // Root here lacks CAP_SYS_RESOURCE: the default rlimits make every container fail to start.
    'default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]',
    'netns = "none"',
    '[engine]',
    `infra_image = "${infraImage}"`,
    'events_logger = "file"',
    `events_logfile_path = "${dir}/events.log"`,
    '[network]',
    `network_config_dir = "${dir}/net"`,
  ];
  await writeFile(join(dir, 'containers.conf'), `${containersConf.join('\n')}\n`);
  await writeFile(join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  await writeFile(
    join(dir, 'storage.conf'),
    `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`,
  );
}
