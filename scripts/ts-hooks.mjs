// Module hooks for the test runs: TypeScript files are transpiled (esbuild, as tsx does), and
// nothing else is touched. tsx's hooks also resolve and read every JavaScript module a suite
// loads (tap, fastify, the built packages): about 1 s of CPU per suite file for nothing here.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// esbuild is tsx's dependency, not the workspace root's.
const require = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
const { transform } = require('esbuild');

const TS = /\.[cm]?ts$/;

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    // NodeNext: a TypeScript file imports its neighbour `./x.ts` as `./x.js`.
    const fromTs = context.parentURL !== undefined && TS.test(context.parentURL);
    if (!fromTs || err?.code !== 'ERR_MODULE_NOT_FOUND' || !/^\.{1,2}\/.*\.[cm]?js$/.test(specifier)) throw err;
    return next(specifier.replace(/js$/, 'ts'), context);
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !TS.test(url) || url.endsWith('.d.ts')) return next(url, context);
  const path = fileURLToPath(url);
  const { code } = await transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: url.endsWith('.cts') ? 'cjs' : 'esm',
    target: 'node20',
    sourcemap: 'inline',
    sourcefile: path,
  });
  return { format: url.endsWith('.cts') ? 'commonjs' : 'module', source: code, shortCircuit: true };
}
