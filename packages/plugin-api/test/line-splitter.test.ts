import t from 'tap';
import { LineSplitter, utf8BoundaryAtOrBefore } from '@enginegate/plugin-api';

function collect(fn: (s: LineSplitter, sink: (l: Buffer, p: boolean) => void) => void, max?: number) {
  const out: Array<[string, boolean]> = [];
  const s = new LineSplitter(max);
  fn(s, (l, p) => out.push([l.toString('latin1'), p]));
  return out;
}

t.test('splits lines and re-joins a line spread over pushes', async (t) => {
  const out = collect((s, sink) => {
    s.push(Buffer.from('a\nb'), sink);
    s.push(Buffer.from('c\n\nd'), sink);
    s.end(sink);
  });
  t.same(out, [
    ['a', false],
    ['bc', false],
    ['', false],
    ['d', true],
  ]);
});

t.test('pushRanges: the lines push gives, whole lines of a chunk as ranges of it', async (t) => {
  const chunks = ['a\nb', 'c\n\nd', 'ef\ngh\n' + 'x'.repeat(12) + '\n'];
  const viaPush = collect((s, sink) => {
    for (const chunk of chunks) s.push(Buffer.from(chunk), sink);
    s.end(sink);
  }, 8);
  const viaRanges: Array<[string, boolean]> = [];
  const ofChunk: string[] = [];
  const s = new LineSplitter(8);
  for (const text of chunks) {
    const chunk = Buffer.from(text);
    s.pushRanges(chunk, (buf, start, end, partial) => {
      viaRanges.push([buf.toString('latin1', start, end), partial]);
      if (buf === chunk) ofChunk.push(buf.toString('latin1', start, end));
    });
  }
  s.end((line, partial) => viaRanges.push([line.toString('latin1'), partial]));
  t.same(viaRanges, viaPush, 'the same lines');
  t.same(ofChunk, ['a', '', 'gh'], 'a whole line inside one chunk is a range of that chunk');
});

t.test('re-joins engine pieces', async (t) => {
  const out = collect((s, sink) => {
    s.pushPiece(Buffer.from('x'.repeat(5)), false, sink);
    s.pushPiece(Buffer.from('y'.repeat(5)), true, sink);
  });
  t.same(out, [['xxxxxyyyyy', false]]);
});

t.test('cuts over-long lines only at UTF-8 boundaries', async (t) => {
  const euro = '€'; // 3 bytes
  const line = euro.repeat(10); // 30 bytes
  const pieces: Buffer[] = [];
  const s = new LineSplitter(8);
  s.push(Buffer.from(line + '\n'), (l) => pieces.push(Buffer.from(l)));
  for (const p of pieces) t.ok(p.length <= 8 && p.toString('utf8').indexOf('\ufffd') === -1);
  t.equal(Buffer.concat(pieces).toString(), line);
  t.equal(utf8BoundaryAtOrBefore(Buffer.from('a€'), 2), 1);
});
