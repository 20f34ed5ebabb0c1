#!/usr/bin/env node
// A committed entry point, so that the package manager can link the `enginegate` command at
// install time, before `dist/` is built.
import '../dist/bin.js';
