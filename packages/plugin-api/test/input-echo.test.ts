// The one rule for echoing client input: at most 64 characters, cut visibly.
import t from 'tap';
import { MAX_ECHOED_INPUT_CHARS, cutInput, quoteInput } from '@enginegate/plugin-api';

t.test('input up to the limit comes back unchanged, longer input is cut with an ellipsis', async (t) => {
  t.equal(MAX_ECHOED_INPUT_CHARS, 64);
  t.equal(cutInput('a'.repeat(64)), 'a'.repeat(64));
  t.equal(cutInput('b'.repeat(15_000)), `${'b'.repeat(64)}…`);
  t.equal(quoteInput('ten'), '"ten"');
  t.equal(quoteInput('c'.repeat(100)), `"${'c'.repeat(64)}…"`);
});

t.test('a cut never leaves half a surrogate pair; values that are not strings are cut as JSON', async (t) => {
  const cut = cutInput(`${'a'.repeat(63)}😀😀`);
  t.equal(cut, `${'a'.repeat(63)}…`);
  t.equal(cutInput({ name: 'x'.repeat(100) }).length, 65);
  t.equal(cutInput(42), '42');
  t.equal(cutInput(undefined), 'undefined');
});
