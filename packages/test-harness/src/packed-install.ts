// enginegate as someone outside this repository gets it: every published package packed with
// `scripts/pack.mjs` (what `npm run pack` runs), then installed with plain npm (not pnpm) from the
// tarballs into an empty folder below the system's temporary directory, outside the workspace.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { trackDaemon } from './daemon-process.js';

const run = promisify(execFile);
/** The repository: this file runs from packages/test-harness/dist. */
const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
/** npm installs and packs over the network on a loaded machine. */
const COMMAND_TIMEOUT_MS = 8 * 60_000;

export interface PackedInstall {
  /** The folder the packages are installed in (its node_modules holds them). */
  dir: string;
  /** The tarballs, by package name (e.g. `@enginegate/plugin-api`). */
  tarballs: Record<string, string>;
  /** Runs a command in `cwd` (default `dir`) with a clean npm environment; rejects on a non-zero exit. */
  exec(command: string, args: string[], cwd?: string): Promise<{ stdout: string; stderr: string }>;
  /** Starts a long-running command in its own process group; `stop` ends the group. */
  start(command: string, args: string[], cwd?: string): RunningCommand;
  remove(): Promise<void>;
}

export interface RunningCommand {
  child: ChildProcess;
  /** Everything written to stderr and stdout so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects when the command ends first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

/**
 * The environment without npm's `npm_*` variables: a suite started by `npm test` must not hand
 * its npm's prefix, command or config to the npm it runs (that npm would install into the
 * repository).
 */
export function cleanNpmEnvironment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra };
}

/** Packs every published package of the repository into `out`; resolves with the tarballs by name. */
export async function packWorkspace(out: string): Promise<Record<string, string>> {
  const { stdout } = await run(process.execPath, [join(REPOSITORY, 'scripts', 'pack.mjs'), '--out', out], {
    cwd: REPOSITORY,
    env: cleanNpmEnvironment(),
    timeout: COMMAND_TIMEOUT_MS,
  });
  const tarballs: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^(\S+)@[^@\s]+ -> (\S+\.tgz)$/.exec(line.trim());
    if (match) tarballs[match[1]!] = match[2]!;
  }
  if (Object.keys(tarballs).length === 0) throw new Error(`scripts/pack.mjs packed nothing: ${stdout}`);
  return tarballs;
}

/**
 * Packs the repository and installs `packages` (default: every published package but the
 * examples) with `npm install` into a fresh empty folder.
 */
export async function installPacked(packages?: string[]): Promise<PackedInstall> {
  const packs = await mkdtemp(join(tmpdir(), 'enginegate-packs-'));
  const dir = await mkdtemp(join(tmpdir(), 'enginegate-outside-'));
  const exec = async (command: string, args: string[], cwd = dir) =>
    run(command, args, { cwd, env: cleanNpmEnvironment(), timeout: COMMAND_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  const remove = async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(packs, { recursive: true, force: true });
  };
  try {
    const tarballs = await packWorkspace(packs);
    const wanted = packages ?? Object.keys(tarballs).filter((name) => name.startsWith('@enginegate/'));
    await writeFile(join(dir, 'package.json'), `${JSON.stringify({ name: 'outside', private: true }, null, 2)}\n`);
    await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...wanted.map((n) => tarballs[n]!)]);
    return { dir, tarballs, exec, start: (command, args, cwd = dir) => startCommand(command, args, cwd), remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

function startCommand(command: string, args: string[], cwd: string): RunningCommand {
  const child = spawn(command, args, { cwd, env: cleanNpmEnvironment(), detached: true, stdio: 'pipe' });
  trackDaemon(child);
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    output: () => output,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) finish(() => resolve(match));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} in: ${output}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        void exited.then(() => finish(() => reject(new Error(`${command} ended without ${pattern}: ${output}`))));
        check();
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM'); // the group: npx and the node it started
        } catch {
          // already gone
        }
      }
      await exited;
    },
  };
}
