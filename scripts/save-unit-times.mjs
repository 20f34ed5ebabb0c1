// Writes the times of the last `npm run test:unit` here to scripts/unit-times.json, which a fresh
// checkout's first unit run packs its processes by. Run it after a warm, quiet unit run.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMITTED_TIMES, readSuiteTimes } from './run-tests.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const times = readSuiteTimes(join(root, 'node_modules', '.cache', 'enginegate-unit'));
const suites = Object.keys(times).sort();
if (suites.length === 0) {
  console.error('save-unit-times: no unit run is recorded here; run npm run test:unit first');
  process.exit(1);
}
// Tenths of a second: finer would only make every refresh a diff of noise.
const rounded = Object.fromEntries(suites.map((suite) => [suite, Math.max(100, Math.round(times[suite] / 100) * 100)]));
writeFileSync(join(root, COMMITTED_TIMES), `${JSON.stringify(rounded, null, 2)}\n`);
console.log(`save-unit-times: ${suites.length} suites written to ${COMMITTED_TIMES}`);
