#!/usr/bin/env node
// Bundles the page (src/app) into dist/app: one script, one stylesheet, the HTML and the icon.
// esbuild, no CDN: everything the page loads comes from the gateway. `--quiet` prints nothing.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(root, 'src', 'app');
const out = join(root, 'dist', 'app');
const quiet = process.argv.includes('--quiet');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  // main.tsx imports the stylesheets: esbuild writes them, in order, beside the script as viewer.css.
  entryPoints: { viewer: join(app, 'main.tsx') },
  outdir: out,
  entryNames: '[name]',
  bundle: true,
  minify: true,
  // A classic script (not a module): loaded by <script defer src>, no inline code anywhere.
  format: 'iife',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  sourcemap: 'external',
  legalComments: 'linked',
  logLevel: quiet ? 'warning' : 'info',
  metafile: false,
});
for (const file of ['index.html', 'icon.svg']) copyFileSync(join(app, file), join(out, file));

if (!quiet) {
  for (const file of ['viewer.js', 'viewer.css', 'index.html']) {
    const body = readFileSync(join(out, file));
    console.log(
      `viewer: ${file} ${(body.length / 1024).toFixed(1)} KiB (${(gzipSync(body).length / 1024).toFixed(1)} KiB gzip)`,
    );
  }
}
