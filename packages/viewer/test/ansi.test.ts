import t from 'tap';
import { ansiSegments, showControls, stripAnsi } from '../src/app/ansi.js';

t.test('text without escapes is one plain run', async (t) => {
  t.same(ansiSegments('plain'), [{ text: 'plain', classes: '' }]);
  t.equal(stripAnsi('plain'), 'plain');
});

t.test('the 16 colours become classes; bold and friends too; no escape is left in the text', async (t) => {
  const line = '\x1b[32mINFO\x1b[0m tty line 1: \x1b[1mbold\x1b[0m \x1b[91mbright\x1b[0m \x1b[41mbg\x1b[0m';
  const segments = ansiSegments(line);
  t.same(
    segments.map((s) => [s.text, s.classes]),
    [
      ['INFO', 'ansi-green-fg'],
      [' tty line 1: ', ''],
      ['bold', 'ansi-bold'],
      [' ', ''],
      ['bright', 'ansi-bright-red-fg'],
      [' ', ''],
      ['bg', 'ansi-red-bg'],
    ],
  );
  t.equal(
    segments.map((s) => s.text).join(''),
    stripAnsi(line),
    'the runs joined are the stripped text (filter ranges line up)',
  );
  t.equal(stripAnsi(line), 'INFO tty line 1: bold bright bg');
});

t.test('256 colours and true colour become rgb() values', async (t) => {
  const [low, cube, grey, truecolor] = ansiSegments(
    '\x1b[38;5;3ma\x1b[0m\x1b[38;5;208mb\x1b[0m\x1b[38;5;244mc\x1b[0m\x1b[38;2;10;20;30md\x1b[0m',
  );
  t.equal(low?.classes, 'ansi-yellow-fg', 'palette 0-15 are the named colours');
  t.equal(cube?.color, 'rgb(255, 135, 0)', 'the 6×6×6 cube');
  t.equal(grey?.color, 'rgb(128, 128, 128)', 'the grey ramp');
  t.equal(truecolor?.color, 'rgb(10, 20, 30)');
});

t.test('other control characters show as control pictures, one for one', async (t) => {
  t.equal(showControls('a\x00b\x07c\x7f\td'), 'a\u2400b\u2407c\u2421\td', 'tab is kept');
  t.equal(stripAnsi('title \x1b]0;x\x07 end').length, 'title \x1b]0;x\x07 end'.length, 'an OSC keeps its length');
  t.notOk(stripAnsi('a \x1b]0;x\x07 b').includes('\x1b'), 'no raw ESC is shown');
});
