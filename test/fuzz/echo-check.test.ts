// The fuzz suites' echo check finds every run of 65 input characters, wherever it starts.
import t from 'tap';
import { echoedInput, echoes } from './answer-checks.js';

t.test('echoes finds a repeated run of 65 characters at any offset, and no shorter one', async (t) => {
  const input = Array.from({ length: 400 }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 2000))).join('');
  let found = 0;
  let missed = 0;
  for (let offset = 0; offset < 100; offset += 1) {
    for (const length of [64, 65]) {
      const text = `${'x'.repeat(offset)}${input.slice(offset, offset + length)}${'y'.repeat(offset % 40)}`;
      if (echoes(text, input) !== (length === 65)) missed += 1;
      else found += 1;
    }
  }
  t.equal(missed, 0, `every case right (${found})`);
});

t.test('an input quoted with JSON escapes counts by its own characters', async (t) => {
  const input = '\\'.repeat(100);
  t.notOk(
    echoedInputOf(`origin ${JSON.stringify(`${input.slice(0, 64)}…`)} is not allowed`, input),
    '64 quoted: no echo',
  );
  t.ok(echoedInputOf(`origin ${JSON.stringify(input.slice(0, 65))} is not allowed`, input), '65 quoted: an echo');
});

const echoedInputOf = (text: string, input: string) => echoedInput(text, [input]) !== undefined;
