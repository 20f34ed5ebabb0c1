import t from 'tap';
import { parseFilter, type LineMatcher } from '../src/app/filter.js';

function matcher(input: string): LineMatcher {
  const parsed = parseFilter(input);
  if (parsed.kind !== 'ok') throw new Error(`not a filter: ${input}`);
  return parsed.matcher;
}

t.test('an empty filter is no filter', async (t) => {
  t.same(parseFilter(''), { kind: 'none' });
});

t.test('plain text matches anywhere, case-insensitively, and marks every occurrence', async (t) => {
  const m = matcher('Err');
  t.ok(m.test('an ERROR here'));
  t.notOk(m.test('all fine'));
  t.same(m.ranges('err, Err and ERR'), [
    [0, 3],
    [5, 8],
    [13, 16],
  ]);
  t.ok(matcher('/').test('a/b'), 'a lone slash is text');
  t.ok(matcher('a.b').test('a.b'), 'regex characters in plain text are literal');
  t.notOk(matcher('a.b').test('axb'));
});

t.test('/pattern/flags is a regular expression', async (t) => {
  const m = matcher('/line \\d+5 /');
  t.ok(m.test('chatty line 15 stdout'));
  t.notOk(m.test('chatty line 16 stdout'));
  t.same(m.ranges('line 15 and line 25 '), [
    [0, 8],
    [12, 20],
  ]);
  t.notOk(matcher('/error/').test('ERROR'), 'case-sensitive without i');
  t.ok(matcher('/error/i').test('ERROR'), 'flags apply');
  const global = matcher('/a/g');
  t.ok(global.test('a') && global.test('a') && global.test('a'), 'a g flag does not make test() stateful');
});

t.test('an invalid regular expression is reported, not thrown', async (t) => {
  const parsed = parseFilter('/(unclosed/');
  t.equal(parsed.kind, 'invalid');
  t.match(parsed.kind === 'invalid' ? parsed.message : '', /Invalid regular expression/);
});

t.test('empty matches highlight nothing and end; highlights per line are capped', async (t) => {
  t.same(matcher('/x*/').ranges('abc'), [], 'an empty match does not loop');
  t.same(matcher('/b*/').ranges('abbc'), [[1, 3]]);
  t.equal(matcher('/./').ranges('y'.repeat(10_000)).length, 200, 'at most 200 ranges');
});
