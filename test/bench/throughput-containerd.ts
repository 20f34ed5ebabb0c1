// Throughput of the containerd plugin's log file reading against a plain reader, measured in
// the same run and the same process: a 300,000-line nerdctl json-file log and a 300,000-line
// CRI log, written to a temp dir. The baselines read the file in 64 KiB chunks, split lines and
// parse each one (JSON.parse for json-file; the time, stream and tag fields for CRI); the
// plugin side is its LogFileStream (follow=false), which makes records with times and cursors
// (what a JSON client gets), and the same with `linesOnly` (no cursors: raw, text and binary).
// No daemon is needed for either: the stream is the code the plugin runs for a container's
// history once it has found the file. Goal: ≥ 0.8× the baseline.
//
//   npm run bench -- throughput-containerd
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LogFileStream, LogRoots, criFormat, jsonFileFormat, type LogFileFormat } from '@enginegate/plugin-containerd';
import type { PluginLogger } from '@enginegate/plugin-api';
import { recordResult } from './bench-results.js';
import { bestOfRounds, machineLine } from './client-processes.js';

const LINES = Number(process.env.BENCH_LINES ?? 300_000);
const TEXT = 'a line of log output that is seventy-two bytes long, give or take...';
const START_MS = Date.UTC(2026, 0, 2, 15, 4, 5);
const quiet: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };

function timeAt(i: number): string {
  return new Date(START_MS + Math.floor(i / 1000)).toISOString().replace('Z', `${String(i % 1000).padStart(6, '0')}Z`);
}

function jsonFileText(): string {
  const out: string[] = [];
  for (let i = 0; i < LINES; i++) {
    out.push(`{"log":"${TEXT} ${i}\\n","stream":"${i % 2 ? 'stderr' : 'stdout'}","time":"${timeAt(i)}"}\n`);
  }
  return out.join('');
}

function criText(): string {
  const out: string[] = [];
  for (let i = 0; i < LINES; i++) out.push(`${timeAt(i)} ${i % 2 ? 'stderr' : 'stdout'} F ${TEXT} ${i}\n`);
  return out.join('');
}

/** Reads a file in 64 KiB chunks and hands each whole line to `parse`. */
async function baseline(path: string, parse: (line: string) => void): Promise<number> {
  const start = performance.now();
  let rest = '';
  let lines = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024, encoding: 'utf8' })) {
    const text = rest + (chunk as string);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      parse(text.slice(from, nl));
      lines++;
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  if (lines !== LINES) throw new Error(`baseline read ${lines} lines`);
  return performance.now() - start;
}

function parseCri(line: string): void {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (Number.isNaN(Date.parse(line.slice(0, a))) || line.slice(a + 1, b) === '' || c === -1) {
    throw new Error('bad CRI line');
  }
}

async function plugin(path: string, format: LogFileFormat, dir: string, linesOnly = false): Promise<number> {
  const start = performance.now();
  const stream = new LogFileStream({
    path,
    format,
    rotation: 'none',
    options: { follow: false, stdout: true, stderr: true, ...(linesOnly && { linesOnly }) },
    roots: new LogRoots([dir], quiet),
    logger: quiet,
    signal: new AbortController().signal,
  });
  let lines = 0;
  for await (const batch of stream) lines += batch.length;
  if (lines !== LINES) throw new Error(`LogFileStream read ${lines} lines`);
  return performance.now() - start;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'eg-bench-ctd-'));
  try {
    const jsonPath = join(dir, 'bench-json.log');
    const criPath = join(dir, 'bench-cri.log');
    await writeFile(jsonPath, jsonFileText());
    await writeFile(criPath, criText());
    const machine = [machineLine()];
    const { rows } = await bestOfRounds([
      ['baseline: json-file read + JSON.parse', () => baseline(jsonPath, (line) => JSON.parse(line) as unknown)],
      ['baseline: CRI read + fields parsed', () => baseline(criPath, parseCri)],
      ['LogFileStream, nerdctl json-file', () => plugin(jsonPath, jsonFileFormat, dir)],
      ['LogFileStream, CRI', () => plugin(criPath, criFormat, dir)],
      ['LogFileStream, json-file, linesOnly', () => plugin(jsonPath, jsonFileFormat, dir, true)],
      ['LogFileStream, CRI, linesOnly', () => plugin(criPath, criFormat, dir, true)],
    ]);
    machine.push(machineLine());
    recordResult('throughput-containerd', {
      title: `containerd log files of ${LINES} lines, read in this process (no daemon)`,
      lines: LINES,
      machine,
      rows,
      baselines: ['baseline: json-file read + JSON.parse', 'baseline: CRI read + fields parsed'],
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
