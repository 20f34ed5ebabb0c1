import t from 'tap';
import {
  TimeCursorSequencer,
  decodeCursor,
  encodeByteCursor,
  encodeTimeCursor,
  isAfterCursor,
  InvalidArgumentError,
  type TimeCursor,
} from '@enginegate/plugin-api';

t.test('cursors round-trip', async (t) => {
  t.same(decodeCursor(encodeTimeCursor(1704207845123456789n, 3)), { kind: 'time', time: 1704207845123456789n, seq: 3 });
  t.same(decodeCursor(encodeByteCursor(4096)), { kind: 'byte', offset: 4096 });
  t.same(decodeCursor(encodeByteCursor(7, '2049:1234')), { kind: 'byte', offset: 7, file: '2049:1234' });
  t.same(decodeCursor(encodeTimeCursor(1704207845000000000n, 7, 'pm0.1.2000000000')), {
    kind: 'time',
    time: 1704207845000000000n,
    seq: 7,
    detail: 'pm0.1.2000000000',
  });
  for (const bad of [
    '',
    'x',
    't12',
    't-1.0',
    'b',
    'b1@/etc/shadow',
    't1.2.3',
    't1.2@',
    't1.2@a/b',
    `t1.2@${'x'.repeat(65)}`,
  ]) {
    t.throws(() => decodeCursor(bad), InvalidArgumentError, bad);
  }
});

t.test('sequencer numbers ties and resume skips exactly the records up to the cursor', async (t) => {
  const times = [5n, 5n, 5n, 6n, 7n, 7n, 8n];
  const seq = new TimeCursorSequencer();
  const cursors = times.map((time) => ({ time, ...seq.next(time) }));
  t.same(
    cursors.map((c) => c.seq),
    [0, 1, 2, 0, 0, 1, 0],
  );
  for (let k = 0; k < times.length; k++) {
    const after = decodeCursor(cursors[k]!.cursor) as TimeCursor;
    // Replay from `after.time` (an inclusive since), as an engine would.
    const replay = new TimeCursorSequencer();
    const resumed = times
      .filter((time) => time >= after.time)
      .map((time) => ({ time, ...replay.next(time) }))
      .filter((r) => isAfterCursor(after, r.time, r.seq));
    t.same(
      resumed.map((r) => r.cursor),
      cursors.slice(k + 1).map((c) => c.cursor),
      `resume after #${k}`,
    );
  }
});
