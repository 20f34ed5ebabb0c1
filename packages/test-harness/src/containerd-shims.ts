// The containerd shims a private daemon started: they outlive it, so its teardown stops them.
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive } from './daemon-process.js';

/** The shims of a containerd carry `-address <its socket>`: SIGKILL them by PID and wait. */
export async function killShimsOf(address: string): Promise<void> {
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const argv = cmdline.split('\0');
    if (!argv[0]?.includes('containerd-shim')) continue;
    const at = argv.indexOf('-address');
    if (at === -1 || argv[at + 1] !== address) continue;
    const pid = Number(entry);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      continue;
    }
    for (let i = 0; i < 50 && (await processAlive(pid)); i++) await sleep(20);
  }
}
