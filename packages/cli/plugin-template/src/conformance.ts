// How `enginegate conformance --plugin .` makes a container that writes given lines: a file in
// the engine's folder. Only a type comes from the testkit, so the plugin needs none to run.
import { rmSync } from 'node:fs';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerWrite, PluginConformance } from '@enginegate/testkit';
import type { FolderEngine } from './folder-engine.js';

/** The suite's folder, one per run; the engine makes it at start, the run's exit removes it. */
const SUITE_DIR = join(tmpdir(), `enginegate-conformance-${process.pid}`);
let removeAtExit = false;

export const conformance: PluginConformance = {
  pluginConfig: { dir: SUITE_DIR },
  // What a folder of files cannot do: the scenarios that need it are skipped with these reasons.
  capabilities: { stderr: false, times: false, exits: false, tty: false },
  capabilityNotes: {
    stderr: 'a file is one stream: every line is stdout',
    times: 'the lines of a file carry no times',
    exits: 'a file never exits: it can always grow',
    tty: 'files have no terminal',
  },
  async createContainer(lines, options, { name, engine }) {
    if (!removeAtExit) {
      removeAtExit = true;
      process.once('exit', () => rmSync(SUITE_DIR, { recursive: true, force: true }));
    }
    const path = join((engine as FolderEngine).dir, name);
    const interval = options.intervalMs ?? 0;
    let removed = false;
    await writeFile(path, interval > 0 ? '' : joinLines(lines));
    if (interval > 0) void writeSlowly(path, lines, interval, () => removed);
    return {
      ref: name,
      async remove() {
        removed = true;
        await rm(path, { force: true });
      },
    };
  },
  countOpenStreams: (engine) => (engine as FolderEngine).openStreams,
};

function joinLines(lines: ContainerWrite[]): Buffer {
  return Buffer.concat(lines.flatMap((line) => [line.bytes, Buffer.from('\n')]));
}

/** One line every `interval` ms, until the container is removed. */
async function writeSlowly(path: string, lines: ContainerWrite[], interval: number, removed: () => boolean) {
  for (const line of lines) {
    await sleep(interval);
    if (removed()) return;
    await appendFile(path, joinLines([line]));
  }
}
