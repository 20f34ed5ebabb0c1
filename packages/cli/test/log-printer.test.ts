import t from 'tap';
import { Writable } from 'node:stream';
import { setImmediate as nextTick } from 'node:timers/promises';
import { LogPrinter, timestampPrefix } from '@enginegate/cli';

/** A destination that records every write call (and, with `stallAfter`, stops draining). */
function recorder(name: string, journal: { to: string; bytes: Buffer }[], highWaterMark = 1 << 20) {
  const pending: (() => void)[] = [];
  let stalled = false;
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, done) {
      journal.push({ to: name, bytes: Buffer.from(chunk) });
      if (stalled) pending.push(done);
      else done();
    },
  });
  return {
    stream,
    stall: () => (stalled = true),
    release: () => {
      stalled = false;
      for (const done of pending.splice(0)) done();
    },
  };
}

t.test('stdout lines go to stdout and stderr lines to stderr, in order, byte for byte', async (t) => {
  const journal: { to: string; bytes: Buffer }[] = [];
  const out = recorder('out', journal);
  const err = recorder('err', journal);
  const printer = new LogPrinter(out.stream, err.stream, { timestamps: false });
  const notUtf8 = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0d]);
  printer.line('stdout', Buffer.from('one'), null);
  printer.line('stdout', notUtf8, null);
  printer.line('stderr', Buffer.from('two'), null);
  printer.line('stdout', Buffer.from('three'), null);
  await printer.drained();
  // One write per run of same-stream lines; the runs keep the order of the lines.
  t.same(
    journal.map((w) => w.to),
    ['out', 'err', 'out'],
  );
  t.same(journal[0]!.bytes, Buffer.concat([Buffer.from('one\n'), notUtf8, Buffer.from('\n')]));
  t.equal(journal[1]!.bytes.toString(), 'two\n');
  t.equal(journal[2]!.bytes.toString(), 'three\n');
});

t.test('lines are batched until the end of the tick', async (t) => {
  const journal: { to: string; bytes: Buffer }[] = [];
  const printer = new LogPrinter(recorder('out', journal).stream, recorder('err', journal).stream, {
    timestamps: false,
  });
  for (let i = 0; i < 100; i++) printer.line('stdout', Buffer.from(`line ${i}`), null);
  t.equal(journal.length, 0, 'nothing written synchronously');
  await nextTick();
  t.equal(journal.length, 1);
  t.equal(journal[0]!.bytes.toString().split('\n').length, 101);
});

t.test('-t prefixes Docker fixed-width times; lines without a time get none', async (t) => {
  const journal: { to: string; bytes: Buffer }[] = [];
  const printer = new LogPrinter(recorder('out', journal).stream, recorder('err', journal).stream, {
    timestamps: true,
  });
  printer.line('stdout', Buffer.from('a'), '2024-01-02T15:04:05.123456789Z');
  printer.line('stdout', Buffer.from('b'), '2024-01-02T15:04:05.1Z');
  printer.line('stdout', Buffer.from('c'), null);
  await printer.drained();
  t.equal(
    Buffer.concat(journal.map((w) => w.bytes)).toString(),
    '2024-01-02T15:04:05.123456789Z a\n2024-01-02T15:04:05.100000000Z b\nc\n',
  );
  t.equal(timestampPrefix('2024-01-02T16:04:05+01:00'), '2024-01-02T15:04:05.000000000Z ');
});

t.test('a destination that stops draining is reported, and its drain too', async (t) => {
  const journal: { to: string; bytes: Buffer }[] = [];
  const out = recorder('out', journal, 4);
  const events: string[] = [];
  const printer = new LogPrinter(out.stream, recorder('err', journal).stream, {
    timestamps: false,
    onBackpressure: () => events.push('pause'),
    onDrain: () => events.push('resume'),
  });
  out.stall();
  printer.line('stdout', Buffer.from('0123456789'), null);
  printer.flush();
  printer.line('stdout', Buffer.from('more'), null);
  printer.flush();
  t.same(events, ['pause'], 'reported once');
  let drained = false;
  const whenDrained = printer.drained().then(() => (drained = true));
  await nextTick();
  t.equal(drained, false, 'drained() waits for the destination');
  out.release();
  await whenDrained;
  t.same(events, ['pause', 'resume']);
});

t.test('notices go to stderr after the lines before them', async (t) => {
  const journal: { to: string; bytes: Buffer }[] = [];
  const printer = new LogPrinter(recorder('out', journal).stream, recorder('err', journal).stream, {
    timestamps: false,
  });
  printer.line('stdout', Buffer.from('before'), null);
  printer.notice('some log lines were lost: rotated');
  await printer.drained();
  t.same(
    journal.map((w) => `${w.to}:${w.bytes.toString()}`),
    ['out:before\n', 'err:enginegate: some log lines were lost: rotated\n'],
  );
});
