// The merge core of merged streams: the k-way merge of histories in time order, the arrival
// merge of live sources, and the merged cursor.
import t from 'tap';
import { encodeTimeCursor, type LineRecord, type LogRecord } from '@enginegate/plugin-api';
import { ArrivalMerge } from '../src/merged/arrival-merge.js';
import { memberKey, MEMBER_KEY_LENGTH, type Member } from '../src/merged/member.js';
import { decodeMergedCursor, encodeMergedCursor, MergedPositions } from '../src/merged/merged-cursor.js';
import { mergeInTimeOrder } from '../src/merged/time-order-merge.js';

function member(index: number, name: string): Member {
  const id = `${name}-id`;
  return { index, id, name, key: memberKey(id) };
}

function line(time: bigint, text: string): LineRecord {
  return { type: 'line', stream: 'stdout', time, line: Buffer.from(text), cursor: encodeTimeCursor(time, 0) };
}

/** A source of the given batches that counts how often it was pulled. */
function countedSource(batches: LogRecord[][]): { records: AsyncIterable<LogRecord[]>; pulls: () => number } {
  let pulls = 0;
  return {
    pulls: () => pulls,
    records: {
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          next: async () => {
            pulls += 1;
            await Promise.resolve();
            return i < batches.length ? { done: false, value: batches[i++]! } : { done: true, value: undefined };
          },
        };
      },
    },
  };
}

function texts(batch: Array<{ record: LogRecord }>): string[] {
  return batch.map(({ record }) => (record.type === 'line' ? record.line.toString() : record.type));
}

t.test('histories merge in time order, ties by member index, each member in its own order', async (t) => {
  const a = member(0, 'a');
  const b = member(1, 'b');
  const c = member(2, 'c');
  const sources = [
    { member: b, records: countedSource([[line(1n, 'b1'), line(3n, 'b3')], [line(5n, 'b5')]]).records },
    {
      member: a,
      records: countedSource([[line(2n, 'a2'), line(3n, 'a3')], [], [line(3n, 'a3bis'), line(9n, 'a9')]]).records,
    },
    { member: c, records: countedSource([]).records },
  ];
  const out: string[] = [];
  for await (const batch of mergeInTimeOrder(sources)) out.push(...texts(batch));
  t.same(out, ['b1', 'a2', 'a3', 'a3bis', 'b3', 'b5', 'a9']);
  void c;
});

t.test('the k-way merge pulls a member only once its batch is used up and the consumer asks', async (t) => {
  const many = (name: string, offset: bigint) =>
    countedSource(Array.from({ length: 100 }, (_, i) => [line(BigInt(i) * 2n + offset, `${name}${i}`)]));
  const a = many('a', 0n);
  const b = many('b', 1n);
  const merged = mergeInTimeOrder([
    { member: member(0, 'a'), records: a.records },
    { member: member(1, 'b'), records: b.records },
  ])[Symbol.asyncIterator]();
  const first = await merged.next();
  t.same(texts(first.value as never), ['a0'], 'a batch ends where a member runs out');
  t.ok(a.pulls() <= 1 && b.pulls() <= 1, 'one batch per member before the consumer reads on');
  for (let i = 0; i < 10; i++) await merged.next();
  t.ok(a.pulls() <= 7 && b.pulls() <= 7, `pulled as read (a ${a.pulls()}, b ${b.pulls()} after 11 batches)`);
  await merged.return(undefined);
});

t.test('records without a time keep their place behind their member’s last timed record', async (t) => {
  const untimed: LineRecord = {
    type: 'line',
    stream: 'stdout',
    time: null,
    line: Buffer.from('a-untimed'),
    cursor: 'b5',
  };
  const out: string[] = [];
  for await (const batch of mergeInTimeOrder([
    { member: member(0, 'a'), records: countedSource([[line(4n, 'a4'), untimed, line(8n, 'a8')]]).records },
    { member: member(1, 'b'), records: countedSource([[line(5n, 'b5'), line(6n, 'b6')]]).records },
  ]))
    out.push(...texts(batch));
  t.same(out, ['a4', 'a-untimed', 'b5', 'b6', 'a8']);
});

t.test('the arrival merge hands batches on as they come and pulls again only when asked', async (t) => {
  const merge = new ArrivalMerge();
  const a = countedSource([[line(1n, 'a1')], [line(2n, 'a2')]]);
  const b = countedSource([[line(1n, 'b1')]]);
  const ma = member(0, 'a');
  merge.add(ma, a.records);
  const first = await merge.next();
  t.equal(first?.kind, 'batch');
  t.equal(a.pulls(), 1, 'not pulled again while its batch is in use');
  merge.add(member(1, 'b'), b.records);
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    const arrival = await merge.next();
    seen.push(
      arrival?.kind === 'batch'
        ? texts(arrival.records.map((record) => ({ record })))[0]!
        : `${arrival?.member.name}:${arrival?.kind}`,
    );
  }
  t.same(seen.sort(), ['a2', 'a:end', 'b1', 'b:end'].sort());
  t.equal(merge.size, 0, 'ended members are gone');
  merge.close();
  t.equal(await merge.next(), undefined, 'a closed merge ends');
});

t.test('merged cursors: every member position, encoded and decoded exactly', async (t) => {
  const positions = new MergedPositions();
  const a = member(0, 'a');
  const b = member(1, 'b');
  positions.advance(a.key, 't100.0', 100n);
  const cursor = positions.advance(b.key, 't200.3@detail:1', 200n);
  t.match(cursor, /^m200~/);
  const decoded = decodeMergedCursor(cursor);
  t.equal(decoded.time, 200n);
  t.same(
    [...decoded.positions],
    [
      [a.key, 't100.0'],
      [b.key, 't200.3@detail:1'],
    ],
  );
  t.equal(encodeMergedCursor(decoded), cursor, 'round trip');
  const resumed = new MergedPositions(decoded);
  t.equal(resumed.of(a.key), 't100.0', 'a resumed stream knows every member’s position');
  t.equal(resumed.of(member(2, 'c').key), undefined, 'a member that joined later has none');
  t.equal(memberKey('x').length, MEMBER_KEY_LENGTH);
  t.equal(memberKey('x'), memberKey('x'), 'keys are stable');
  t.not(memberKey('x'), memberKey('y'));
});

t.test('a bad merged cursor is a 400 naming after', async (t) => {
  for (const text of [
    'm',
    'mx',
    'm1~short',
    `m1~${'k'.repeat(MEMBER_KEY_LENGTH)}nonsense`,
    't1.0',
    `m1~${'k'.repeat(MEMBER_KEY_LENGTH)}t1.0~${'k'.repeat(MEMBER_KEY_LENGTH)}t2.0`,
  ]) {
    t.throws(() => decodeMergedCursor(text), { code: 'INVALID_ARGUMENT', parameter: 'after' }, text);
  }
});
