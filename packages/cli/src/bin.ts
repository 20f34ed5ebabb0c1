#!/usr/bin/env node
import { main } from './main.js';

// EPIPE on stdout (`enginegate logs x | head`) means the reader has what it wanted: stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  process.stderr.write(`enginegate: cannot write to stdout: ${err.code ?? err.message}\n`);
  process.exit(1);
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
