// The end of `npm test` names each failed test with its file and subtests, so that a CI page
// showing only the last lines still tells what failed.
import t from 'tap';
import { failureReport, TapFailureCollector } from '../../scripts/tap-failures.mjs';

const run = [
  '# Subtest: test/a.test.ts',
  '    # Subtest: a group',
  '        ok 1 - fine',
  '        not ok 2 - the count # TODO a known bug',
  '        not ok 3 - every line arrives',
  '          ---',
  '          found: 3',
  '          wanted: 4',
  '          at:',
  '            fileName: test/a.test.ts',
  '            columnNumber: 9',
  '          stack: |',
  '            Test.<anonymous> (test/a.test.ts:9:9)',
  '',
  '            more.stack (x.js:1:1)',
  '          source: |',
  '            t.equal(n, 4)',
  '          compare: ===',
  '          ...',
  '        ',
  '        1..3',
  '    not ok 1 - a group # time=12.5ms',
  '    ok 2 - skipped # SKIP no daemon',
  '    1..2',
  'not ok 1 - test/a.test.ts # time=20ms',
  '',
  '# Subtest: test/b.test.ts',
  '    ok 1 - fine',
  '    1..1',
  'ok 2 - test/b.test.ts # time=1ms',
  '',
  '# Subtest: test/c.test.ts',
  '    not ok 1 - timeout!',
  '      ---',
  '      message: timeout!',
  '      ...',
  '    1..1',
  'not ok 3 - test/c.test.ts # time=30000ms',
  '',
  '# { total: 6, pass: 2, fail: 2, todo: 1, skip: 1 }',
  '',
].join('\n');

t.test('each failed leaf test with its path and details (no stack or source), todo and skip left out', async (t) => {
  const collector = new TapFailureCollector();
  // in pieces that cut lines, as a pipe delivers them
  for (let i = 0; i < run.length; i += 7) collector.push(run.slice(i, i + 7));
  const failures = collector.failures();
  t.same(
    failures.map((f) => f.path),
    [
      ['test/a.test.ts', 'a group', 'every line arrives'],
      ['test/c.test.ts', 'timeout!'],
    ],
  );
  t.same(failures[0]?.details, ['found: 3', 'wanted: 4', 'at:', '  fileName: test/a.test.ts', 'compare: ===']);
  t.same(failures[1]?.details, ['message: timeout!']);
});

t.test('a file that fails with no failed test inside is listed by itself', async (t) => {
  const collector = new TapFailureCollector();
  collector.push('# Subtest: test/d.test.ts\n    1..0\nnot ok 1 - test/d.test.ts # time=5ms\n');
  t.same(
    collector.failures().map((f) => f.path),
    [['test/d.test.ts']],
  );
});

t.test('the report: nothing when all passed, else a bounded list', async (t) => {
  t.same(failureReport([]), []);
  const many = Array.from({ length: 12 }, (_, i) => ({ path: ['f.test.ts', `case ${i}`], details: [] }));
  const report = failureReport(many, 10);
  t.equal(report[0], 'failed tests (12):');
  t.equal(report[1], '  ✗ f.test.ts > case 0');
  t.equal(report.length, 12);
  t.match(report.at(-1), /and 2 more/);
});
