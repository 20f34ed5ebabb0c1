import type { Test } from 'tap';
import type { SuiteHarness } from '../suite-harness.js';

/** One named conformance scenario: it asserts on `t` and cleans up through `t.teardown`. */
export type Scenario = (t: Test, h: SuiteHarness) => Promise<void>;
