// No committed file may name an absolute path of the machine it was written on: a README that
// says `cd` into its author's checkout, or a test that reads a file in its author's home, works
// for that author only. Every file `git ls-files` lists is read (binary files, those with a NUL
// byte, are passed over).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: here, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What a path of this machine looks like: this checkout (and the repository's main worktree,
 * when this is a linked one), this user's home, anyone's home, and the workspace the checkouts
 * of this machine live in. Each pattern is written so that this file does not match it.
 */
function machinePaths(top: string, commonGitDir: string): RegExp[] {
  const checkouts = new Set([top, dirname(commonGitDir)]);
  const home = homedir();
  const patterns = [
    ...[...checkouts].filter((p) => p.length > 1).map((p) => new RegExp(`${escape(p)}(?![\\w.-])`)),
    /(?<![\w.-])\/root\//,
    /(?<![\w.-])\/home\/[\w.-]+\//,
    /(?<![\w.-])\/Users\/[\w.-]+\//,
    /(?<![\w.-])\/work\//,
  ];
  if (home.length > 1) patterns.push(new RegExp(`(?<![\\w.-])${escape(home)}/`));
  return patterns;
}

interface Finding {
  file: string;
  line: number;
  text: string;
}

function findingsIn(file: string, text: string, patterns: RegExp[]): Finding[] {
  const found: Finding[] = [];
  text.split('\n').forEach((line, i) => {
    if (patterns.some((p) => p.test(line))) found.push({ file, line: i + 1, text: line.trim().slice(0, 160) });
  });
  return found;
}

t.test('no committed file names an absolute path of this machine', async (t) => {
  let top: string;
  try {
    top = git(['rev-parse', '--show-toplevel']).trim();
  } catch (err) {
    t.plan(0, `not a git checkout, so there are no committed files to read (${String(err)})`);
    return;
  }
  // Relative to where git ran (`../.git` from test/ in a plain clone), absolute in a linked worktree.
  const commonGitDir = resolve(here, git(['rev-parse', '--git-common-dir']).trim());
  const patterns = machinePaths(top, commonGitDir);
  const files = git(['-C', top, 'ls-files', '-z']).split('\0').filter(Boolean);
  t.ok(files.length > 100, `git ls-files lists the repository (${files.length} files)`);
  const findings: Finding[] = [];
  let read = 0;
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(top, file));
    } catch {
      continue; // deleted in the work tree, not yet in a commit
    }
    if (bytes.includes(0)) continue;
    read += 1;
    findings.push(...findingsIn(file, bytes.toString('utf8'), patterns));
  }
  t.ok(read > 100, `text files read (${read})`);
  t.same(
    findings.map((f) => `${f.file}:${f.line}: ${f.text}`),
    [],
    'no file names this checkout, a home directory or the workspace folder',
  );
});

t.test('the check finds the paths it is there to find', async (t) => {
  const patterns = machinePaths('/srv/checkouts/enginegate', '/srv/checkouts/enginegate/.git');
  const bad = [
    'cd /srv/checkouts/enginegate && npm test',
    'see /srv/checkouts/enginegate/README.md',
    ['tokenFile: "', 'root', '.local/state/token"'].join('/'),
    ['cat ', 'home', 'alice', 'notes.txt'].join('/'),
    ['open ', 'Users', 'bob', 'src'].join('/'),
    ['cd ', 'work', 'main'].join('/'),
  ];
  const good = [
    'the socket is /run/containerd/containerd.sock',
    'echo x > /tmp/commands.json',
    'ssh -L /tmp/podman.sock:/run/podman/podman.sock host',
    'GET /passthrough/engine/logs/{id}',
    'in /srv/checkouts/enginegate-other',
    'rootfs at ./root/bin and ../home/x/y',
  ];
  for (const line of bad) t.ok(findingsIn('f', line, patterns).length > 0, `found: ${line}`);
  for (const line of good) t.same(findingsIn('f', line, patterns), [], `passed: ${line}`);
});
