import t from 'tap';
import { parseFilter } from '../src/app/filter.js';
import { LineStore, type NewEntry } from '../src/app/line-store.js';

function line(text: string, stream: 'stdout' | 'stderr' = 'stdout'): NewEntry {
  return { kind: 'line', stream, marker: null, text, plain: text, time: null, member: -1 };
}

function texts(store: LineStore): string[] {
  return [...store.visible()].map((e) => e.text);
}

function matcherOf(input: string) {
  const parsed = parseFilter(input);
  return parsed.kind === 'ok' ? parsed.matcher : null;
}

t.test('keeps at most the cap, oldest dropped first, and counts the drops', async (t) => {
  const store = new LineStore(3);
  store.append(['a', 'b'].map((x) => line(x)));
  t.same(texts(store), ['a', 'b']);
  t.equal(store.dropped, 0);
  store.append(['c', 'd', 'e'].map((x) => line(x)));
  t.same(texts(store), ['c', 'd', 'e']);
  t.equal(store.size, 3);
  t.equal(store.dropped, 2);
  t.equal(store.shiftedOut, 2, 'two visible rows left the front');
  t.same(
    [...store.visible()].map((e) => e.seq),
    [2, 3, 4],
    'seqs keep counting',
  );
  store.setCap(1);
  t.same(texts(store), ['e'], 'a smaller cap drops at once');
  t.equal(store.dropped, 4);
  t.throws(() => store.setCap(0), RangeError);
});

t.test('the filter narrows the visible entries, follows appends and drops, and clears', async (t) => {
  const store = new LineStore(6);
  store.append(['x1', 'y1', 'x2', 'y2'].map((x) => line(x)));
  store.setFilter(matcherOf('x'));
  t.same(texts(store), ['x1', 'x2']);
  store.append([line('x3'), line('y3')]);
  t.same(texts(store), ['x1', 'x2', 'x3'], 'new matching lines join the view');
  store.append([line('y4'), line('y5')]); // drops x1, y1
  t.same(texts(store), ['x2', 'x3'], 'dropped matches leave the view');
  t.equal(store.shiftedOut, 1, 'one visible row left the front while filtered');
  t.equal(store.visibleAt(5), undefined);
  store.setFilter(null);
  t.same(texts(store), ['x2', 'y2', 'x3', 'y3', 'y4', 'y5'], 'clearing the filter shows everything kept');
  store.clear();
  t.equal(store.size, 0);
  t.equal(store.dropped, 0);
});

t.test('stays exact across many compactions', async (t) => {
  const cap = 2000;
  const store = new LineStore(cap);
  store.setFilter(matcherOf('/7$/'));
  const total = 50_000;
  for (let i = 0; i < total; i += 100) {
    store.append(Array.from({ length: 100 }, (_, k) => line(String(i + k))));
  }
  t.equal(store.dropped, total - cap);
  store.setFilter(null);
  t.equal(store.visibleAt(0)?.text, String(total - cap));
  t.equal(store.visibleAt(cap - 1)?.text, String(total - 1));
  store.setFilter(matcherOf('/7$/'));
  t.equal(store.visibleCount, cap / 10);
  t.ok(
    [...store.visible()].every((e) => e.text.endsWith('7') && Number(e.text) >= total - cap),
    'the filtered view is the kept lines ending in 7',
  );
});
