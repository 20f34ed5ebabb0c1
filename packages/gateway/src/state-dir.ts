import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const TOKEN_FILE_NAME = 'token';

/**
 * Where the gateway keeps its state (the token file): `$ENGINEGATE_STATE_DIR`, else
 * `$XDG_STATE_HOME/enginegate`, else `~/.local/state/enginegate`.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ENGINEGATE_STATE_DIR) return env.ENGINEGATE_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'enginegate');
  return join(homedir(), '.local', 'state', 'enginegate');
}

/** The token a gateway wrote in `stateDir`, or null when there is no token file. Other read errors throw. */
export function readTokenFile(stateDir: string): string | null {
  let text: string;
  try {
    text = readFileSync(join(stateDir, TOKEN_FILE_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const token = text.trim();
  return token.length > 0 ? token : null;
}

/** 32 random bytes, base64url: fits a header and a WebSocket subprotocol unchanged. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Writes the token 0600 (in a 0700 directory). Written to a temporary file and renamed, so a
 * CLI reading concurrently never sees half a token.
 */
export function writeTokenFile(stateDir: string, token: string): string {
  ensurePrivateDir(stateDir);
  const file = join(stateDir, TOKEN_FILE_NAME);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${token}\n`, { mode: 0o600 });
  renameSync(temporary, file);
  return file;
}

/**
 * Creates `dir` 0700, or checks one that exists: it must be a directory of this user (not a
 * symlink), and group or other permissions on it are taken away (a 0777 state directory would
 * let anyone swap the token file).
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stats = lstatSync(dir);
  if (!stats.isDirectory()) throw new Error(`the state directory ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid)
    throw new Error(`the state directory ${dir} belongs to another user (uid ${stats.uid})`);
  if ((stats.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}
