// `node --import=./scripts/ts-register.mjs`: the test runs' TypeScript hooks (ts-hooks.mjs).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);

// tap's runner puts @tapjs/processinfo into NODE_OPTIONS, and its spawn hook (process-on-spawn)
// puts it back into every child's environment: each CLI, gateway or plugin process a suite
// starts then loads it too, 0.2–0.4 s of CPU a process (`enginegate --help`: 0.25 → 0.65 s).
// It serves coverage, which the unit run leaves out; so there, children start without it.
if (process.env.ENGINEGATE_UNIT_RUN === '1') {
  const withoutProcessInfo = (env) => {
    for (const key of Object.keys(env)) if (key.startsWith('_TAPJS_PROCESSINFO_')) delete env[key];
    if (typeof env.NODE_OPTIONS !== 'string') return;
    const kept = env.NODE_OPTIONS.split(/\s+/).filter((arg) => !arg.includes('@tapjs/processinfo'));
    if (kept.some((arg) => arg.replace(/^"|"$/g, '') !== '')) env.NODE_OPTIONS = kept.join(' ');
    else delete env.NODE_OPTIONS;
  };
  withoutProcessInfo(process.env);
  // process-on-spawn keeps its listeners on this global; ours runs after processinfo's.
  const spawnHooks = globalThis[Symbol.for('process-on-spawn@*:singletonId')];
  spawnHooks?.listeners.push((options) => withoutProcessInfo(options.env));
}
