// A stand-in for nerdctl's json-file logging binary, written as a script for `ctr run --log-uri`.
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes a nerdctl-style `binary://` logger: containerd's shim starts it with the container's
 * stdout on fd 3, stderr on fd 4 and a readiness pipe on fd 5, and the URI's query as argv
 * (`_NERDCTL_INTERNAL_LOGGING <data store>`). Like nerdctl's json-file driver it writes
 * `<data store>/containers/<ns>/<id>/<id>-json.log` (or opts `log-path`), one
 * `{"log","stream","time"}` object per line, rotating at `max-size` bytes into `.1`, `.2`, … as
 * go-logrotate does (numbered in rotation order, keeping `max-file` files), with the options
 * read from `<state dir>/log-config.json`. On a full disk an entry is lost and the logger goes on.
 * Returns the URI for `--log-uri`.
 */
export async function writeNerdctlStyleLogger(dir: string, dataStore: string): Promise<string> {
  const script = join(dir, 'nerdctl-json-logger.mjs');
  await writeFile(script, `#!${process.execPath}\n${NERDCTL_LOGGER_SOURCE}`);
  await chmod(script, 0o755);
  return `binary://${script}?_NERDCTL_INTERNAL_LOGGING=${dataStore}`;
}

const NERDCTL_LOGGER_SOURCE = String.raw`
import fs from 'node:fs';
import path from 'node:path';
const dataStore = process.argv[3];
const id = process.env.CONTAINER_ID;
const ns = process.env.CONTAINER_NAMESPACE;
const stateDir = path.join(dataStore, 'containers', ns, id);
fs.mkdirSync(stateDir, { recursive: true });
let config = {};
try { config = JSON.parse(fs.readFileSync(path.join(stateDir, 'log-config.json'), 'utf8')); } catch {}
const opts = config.opts || {};
const file = opts['log-path'] || path.join(stateDir, id + '-json.log');
const maxSize = opts['max-size'] ? Number(opts['max-size']) : Infinity;
const maxFile = opts['max-file'] ? Number(opts['max-file']) : 1;
let fd = fs.openSync(file, 'a');
let size = fs.fstatSync(fd).size;
const base = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
let last = 0n;
function now() {
  let t = base + process.hrtime.bigint();
  if (t <= last) t = last + 1n;
  last = t;
  const d = new Date(Number(t / 1000000n));
  return d.toISOString().slice(0, 19) + '.' + String(t % 1000000000n).padStart(9, '0') + 'Z';
}
// As go-logrotate (nerdctl's rotation) does: the current file becomes <file>.<n+1>, stamped
// with the rotation time; the oldest backups beyond max-file - 1 (by that time) are removed.
let order = 0;
function rotate() {
  fs.closeSync(fd);
  const backup = file + '.' + (++order);
  fs.renameSync(file, backup);
  const t = new Date();
  fs.utimesSync(backup, t, t);
  const dir = path.dirname(file);
  const backups = fs.readdirSync(dir)
    .filter((n) => n.startsWith(path.basename(file) + '.'))
    .map((n) => ({ p: path.join(dir, n), m: fs.statSync(path.join(dir, n)).mtimeMs }))
    .sort((a, b) => b.m - a.m);
  for (const old of backups.slice(Math.max(0, maxFile - 1))) fs.rmSync(old.p);
  fd = fs.openSync(file, 'w');
  size = 0;
}
function write(stream, line) {
  const entry = JSON.stringify({ log: line + '\n', stream, time: now() }) + '\n';
  if (size > 0 && size + entry.length > maxSize) rotate();
  // A full disk (ENOSPC) loses the entry and the logger goes on, as Docker's json-file does.
  try { fs.writeSync(fd, entry); } catch (err) { if (err.code !== 'ENOSPC') throw err; return; }
  size += Buffer.byteLength(entry);
}
let open = 2;
for (const [fdNum, stream] of [[3, 'stdout'], [4, 'stderr']]) {
  let pending = '';
  const input = fs.createReadStream(null, { fd: fdNum, encoding: 'utf8' });
  input.on('data', (text) => {
    pending += text;
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) { write(stream, pending.slice(0, nl)); pending = pending.slice(nl + 1); }
  });
  input.on('end', () => { if (pending) write(stream, pending); if (--open === 0) { fs.closeSync(fd); process.exit(0); } });
}
fs.closeSync(5);
`;
