// `node --import=./scripts/ts-register.mjs`: the test runs' TypeScript hooks (ts-hooks.mjs).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
