// Log formats that cannot be produced here, from fixture files, through the same readers the
// engine uses: CRI lines with zone offsets, trimmed fractions, tags with flags and P/F pieces;
// a pre-2.1 nerdctl layout (log-config.json, numbered rotations); kubelet `.gz` rotations;
// journald's `journalctl -o json` output.
import t from 'tap';
import { chmod, cp, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TimestampParser, decodeCursor, formatTimestamp, parseRfc3339, type LogOptions } from '@enginegate/plugin-api';
import {
  JournaldStream,
  LogFileStream,
  LogLocator,
  LogRoots,
  criFormat,
  jsonFileFormat,
  type ContainerdContainer,
  type LogFileFormat,
  type RotationScheme,
} from '@enginegate/plugin-containerd';
import { ALL, lines, readAll, recordingLogger } from './fixtures/engine-support.js';
import { assertParsesAlikeInRange } from './fixtures/range-parse.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const logger = recordingLogger();

function read(
  path: string,
  format: LogFileFormat,
  rotation: RotationScheme,
  options: LogOptions = ALL,
  roots = [FIXTURES],
) {
  return readAll(
    new LogFileStream({
      path,
      format,
      rotation,
      options,
      roots: new LogRoots(roots, logger),
      logger,
      signal: new AbortController().signal,
    }),
  );
}

const at = (text: string) => parseRfc3339(text)!;

t.test('CRI: offsets, trimmed fractions, flags, untagged lines, P/F pieces, ties', async (t) => {
  const records = await read(join(FIXTURES, 'cri-offsets.log'), criFormat, 'none');
  const got = records.map((r) => r.type === 'line' && [r.stream, formatTimestamp(r.time!), r.text]);
  t.same(got, [
    ['stdout', '2024-01-02T07:04:05.123456789Z', 'offset plus eight'],
    ['stdout', '2024-01-02T07:04:05.500000000Z', 'trimmed to one digit'],
    ['stdout', '2024-01-02T07:04:05.500020000Z', 'interleaved stdout'],
    ['stderr', '2024-01-02T07:04:05.500030000Z', 'first piece, second piece'],
    ['stdout', '2024-01-02T07:04:06.000000000Z', 'no fraction at all'],
    ['stdout', '2024-01-02T07:04:07.000000001Z', 'tag with a flag'],
    ['stdout', '2024-01-02T07:04:08.000000000Z', 'legacy line without a tag'],
    ['stdout', '2024-01-02T07:04:09.000000000Z', ''],
    ['stderr', '2024-01-02T07:04:09.000000000Z', 'same time, next record'],
  ]);
  const ties = records.slice(-2).map((r) => (r as { cursor: string }).cursor);
  t.same(
    ties,
    [`t${at('2024-01-02T07:04:09Z')}.0`, `t${at('2024-01-02T07:04:09Z')}.1`],
    'records sharing a time are numbered',
  );

  // Every cursor resumes right behind its record.
  const all = records.map((r) => (r as { text: string }).text);
  for (let i = 0; i < records.length; i++) {
    const after = decodeCursor((records[i] as { cursor: string }).cursor);
    const rest = await read(join(FIXTURES, 'cri-offsets.log'), criFormat, 'none', { ...ALL, after });
    t.same(lines(rest), all.slice(i + 1), `after record ${i}`);
  }
  const tail = await read(join(FIXTURES, 'cri-offsets.log'), criFormat, 'none', { ...ALL, tail: 1 });
  t.same(
    tail.map((r) => (r as { cursor: string }).cursor),
    [ties[1]],
    'a tail starting inside a tie keeps its number',
  );
  const since = await read(join(FIXTURES, 'cri-offsets.log'), criFormat, 'none', {
    ...ALL,
    since: at('2024-01-02T07:04:07Z'),
  });
  t.same(lines(since), all.slice(5));
  const until = await read(join(FIXTURES, 'cri-offsets.log'), criFormat, 'none', {
    ...ALL,
    until: at('2024-01-02T07:04:06Z'),
  });
  t.same(lines(until), all.slice(0, 5));
  // linesOnly: the same lines (pieces joined), without cursors; with `after` still numbered.
  const bare = await read(join(FIXTURES, 'cri-offsets.log'), criFormat, 'none', { ...ALL, linesOnly: true });
  t.same(lines(bare), all);
  t.same(new Set(bare.map((r) => (r as { cursor: string }).cursor)), new Set(['']), 'linesOnly: no cursors');
  const bareTail = await read(join(FIXTURES, 'cri-offsets.log'), criFormat, 'none', {
    ...ALL,
    linesOnly: true,
    tail: 2,
  });
  t.same(lines(bareTail), all.slice(-2), 'a tail without cursors');
  const bareAfter = await read(join(FIXTURES, 'cri-offsets.log'), criFormat, 'none', {
    ...ALL,
    linesOnly: true,
    after: decodeCursor(ties[0]!),
  });
  t.same(lines(bareAfter), all.slice(-1), 'after= still finds its record');
});

// The reader hands the parser each line as a range of its chunk: the neighbouring lines'
// spaces and tags must change nothing, even for a line that ends early (no tag, no content).
t.test('CRI: a line read as a range of a larger buffer reads as the line alone', async (t) => {
  const lines = [
    '2024-01-02T07:04:05.123456789Z stdout F whole',
    '2024-01-02T07:04:05.123456789Z stderr P piece ',
    '2024-01-02T07:04:05.123456789Z stdout F:x flagged',
    '2024-01-02T07:04:05.123456789Z stdout legacy',
    '2024-01-02T07:04:05.123456789Z stdout F',
    '2024-01-02T07:04:05.123456789Z stdout',
    '2024-01-02T07:04:05.123456789Z',
    '2024-01-02T07:04:05Z stdout F',
    'not a time stdout F x',
  ];
  const around = Buffer.from(' F P x ');
  const named = lines.map((text) => [text, Buffer.from(text)] as const);
  assertParsesAlikeInRange(t, criFormat, named, around, around);
});

t.test('the cached timestamp parser agrees with parseRfc3339 on every form', async (t) => {
  const samples: string[] = [];
  const base = Date.UTC(2024, 1, 28, 23, 59, 58);
  for (let i = 0; i < 400; i++) {
    const iso = new Date(base + i * 7).toISOString().slice(0, 19); // runs within one second, then the next
    const digits = String(i * 7919)
      .padStart(9, '0')
      .slice(0, 1 + (i % 9));
    samples.push(`${iso}.${digits}Z`, `${iso}Z`, `${iso}.${digits}z`, `${iso}.${digits}+02:00`);
  }
  samples.push(
    '2024-02-29T23:59:58.Z',
    '2024-02-29T23:59:58.12a4Z',
    '2024-02-29T23:59:58.1234567890Z',
    '2024-13-01T00:00:00Z',
    '2024-02-29 23:59:58.5Z',
    '2024-02-29T23:59:58.5',
    'garbage',
  );
  const bytes = new TimestampParser();
  const text = new TimestampParser();
  let mismatches = 0;
  for (const sample of samples) {
    const expected = parseRfc3339(sample);
    if (bytes.parse(Buffer.from(`x ${sample} y`), 2, 2 + sample.length) !== expected) mismatches++;
    if (text.parseText(sample) !== expected) mismatches++;
  }
  t.equal(mismatches, 0, `${samples.length} samples, parsed from bytes and from text`);
});

t.test('json-file entries: escapes, pieces, foreign lines', async (t) => {
  const entry = jsonFileFormat.parse(
    Buffer.from('{"log":"tab\\there \\u00e9\\n","stream":"stderr","time":"2024-01-02T07:04:05.1Z"}'),
  );
  t.same(entry && { ...entry, content: entry.content.toString() }, {
    stream: 'stderr',
    time: at('2024-01-02T07:04:05.1Z'),
    content: 'tab\there é',
    endsLine: true,
  });
  t.equal(
    jsonFileFormat.parse(Buffer.from('{"log":"piece","stream":"stdout","time":"2024-01-02T07:04:05Z"}'))?.endsLine,
    false,
  );
  t.equal(jsonFileFormat.parse(Buffer.from('{"log":1}')), undefined);
  t.equal(jsonFileFormat.parse(Buffer.from('garbage')), undefined);
  t.equal(
    jsonFileFormat.timeOf(Buffer.from('{"log":"x\\n","stream":"stdout","time":"2024-01-02T07:04:05Z"}')),
    at('2024-01-02T07:04:05Z'),
  );
});

t.test('a pre-2.1 nerdctl layout: log-config.json in the state dir, rotations ordered by mtime', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'egc-fixture-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp(join(FIXTURES, 'nerdctl-pre-2.1'), dir, { recursive: true });
  const id = '0f3a0bd1c2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4';
  const stateDir = join(dir, 'containers', 'default', id);
  const log = join(stateDir, `${id}-json.log`);
  // go-logrotate numbers backups in rotation order and stamps them: .1 is the oldest here.
  await utimes(`${log}.1`, 1000, 1000);
  await utimes(`${log}.2`, 2000, 2000);
  await utimes(log, 3000, 3000);

  const container: ContainerdContainer = {
    namespace: 'default',
    id,
    labels: { 'nerdctl/name': 'old', 'nerdctl/state-dir': stateDir },
    image: 'docker.io/library/alpine:latest',
    createdAt: null,
    spec: null,
    extensions: {},
  };
  const roots = new LogRoots([dir], logger);
  const location = await new LogLocator(null as never, roots, logger).locate(container, undefined);
  t.match(location, { kind: 'file', path: log, rotation: 'numbered' });
  if (location.kind !== 'file') return;
  t.equal(location.format, jsonFileFormat);
  const records = await read(location.path, location.format, location.rotation, ALL, [dir]);
  t.same(lines(records, 'stdout'), [
    'first file line 1',
    'a long line split across entries',
    'second file line',
    'current line é',
  ]);
  t.same(lines(records, 'stderr'), ['first file err', 'current err']);
  const tail = await read(location.path, location.format, location.rotation, { ...ALL, tail: 3 }, [dir]);
  t.same(lines(tail), ['second file line', 'current line é', 'current err']);
});

t.test('kubelet rotations: .gz, dated, live; a split line spanning two files', async (t) => {
  const log = join(FIXTURES, 'cri-rotated', '0.log');
  const records = await read(log, criFormat, 'cri');
  t.same(lines(records), [
    'gz line 1',
    'gz piece continues in the next file',
    'rotated line',
    'live line 1',
    'live line 2',
  ]);
  const since = await read(log, criFormat, 'cri', { ...ALL, since: at('2024-01-01T00:01:00Z') });
  t.same(lines(since), ['rotated line', 'live line 1', 'live line 2']);
  const tail = await read(log, criFormat, 'cri', { ...ALL, tail: 4 });
  t.same(lines(tail), ['gz piece continues in the next file', 'rotated line', 'live line 1', 'live line 2']);
  const after = decodeCursor((records[0] as { cursor: string }).cursor);
  const resumed = await read(log, criFormat, 'cri', { ...ALL, after });
  t.same(lines(resumed), lines(records).slice(1), 'a cursor from the compressed file');
});

t.test('journald: journalctl -o json output through the journald reader', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'egc-journal-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // Stands in for journalctl (which needs a running journald): prints the fixture, records its arguments.
  const fake = join(dir, 'journalctl');
  await writeFile(fake, `#!/bin/sh\necho "$@" > ${dir}/args\ncat ${join(FIXTURES, 'journald.json')}\n`);
  await chmod(fake, 0o755);
  const stream = new JournaldStream({
    identifier: '0123456789ab',
    journalctlPath: fake,
    options: { ...ALL, since: at('2024-01-02T15:04:05.1Z'), tail: 10 },
    logger,
    signal: new AbortController().signal,
  });
  const records = await readAll(stream);
  t.same(
    records.map((r) => r.type === 'line' && [r.stream, formatTimestamp(r.time!), r.line.toString('latin1')]),
    [
      ['stdout', '2024-01-02T15:04:05.123456000Z', 'hello from journald'],
      ['stderr', '2024-01-02T15:04:05.223456000Z', 'an error line'],
      ['stdout', '2024-01-02T15:04:05.323456000Z', 'hi \xff'],
      ['stdout', '2024-01-02T15:04:05.323456000Z', 'same microsecond'],
    ],
  );
  t.same((records[3] as { cursor: string }).cursor.split('.')[1], '1', 'ties are numbered');
  const args = (await readFile(join(dir, 'args'), 'utf8')).trim().split(' ');
  t.same(args, [
    '--output=json',
    '--no-pager',
    'SYSLOG_IDENTIFIER=0123456789ab',
    '--since=@1704207845.100000',
    '--lines=10',
  ]);

  // Following: journalctl -f never ends; the task's exit does, and journalctl is killed.
  const follower = join(dir, 'journalctl-f');
  await writeFile(
    follower,
    `#!/bin/sh\necho "$@" > ${dir}/follow-args\necho $$ > ${dir}/pid\ncat ${join(FIXTURES, 'journald.json')}\nexec sleep 60\n`,
  );
  await chmod(follower, 0o755);
  let onExit: ((exit: { exitCode: number | null }) => void) | undefined;
  const followed = readAll(
    new JournaldStream({
      identifier: '0123456789ab',
      journalctlPath: follower,
      options: { ...ALL, follow: true },
      task: { begin: async (listener) => ((onExit = listener), 'running'), end() {} },
      logger,
      signal: new AbortController().signal,
      exitSettleMs: 100,
    }),
    { stop: (r) => (r.length === 4 && onExit?.({ exitCode: 3 }), false) },
  );
  const records2 = await followed;
  t.same(lines(records2).length, 4);
  t.match(records2.at(-1), { type: 'exit', exitCode: 3 });
  const pid = Number(await readFile(join(dir, 'pid'), 'utf8'));
  t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'journalctl was stopped by its PID');
  t.match(await readFile(join(dir, 'follow-args'), 'utf8'), /--follow/);
});
