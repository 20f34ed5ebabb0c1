import t from 'tap';
import { visibleText } from '../src/app/download.js';
import { parseFilter } from '../src/app/filter.js';
import { LineStore } from '../src/app/line-store.js';

t.test(
  'the visible log as text: names padded like docker compose logs, times when shown, markers, drops',
  async (t) => {
    const store = new LineStore(3);
    const members = [
      { name: 'web', colour: 0 },
      { name: 'database', colour: 1 },
    ];
    const time = '2024-01-02T15:04:05.123456789Z';
    store.append([
      { kind: 'line', stream: 'stdout', marker: null, text: 'dropped', plain: 'dropped', time, member: 0 },
      { kind: 'line', stream: 'stdout', marker: null, text: '\x1b[32mGET /\x1b[0m', plain: 'GET /', time, member: 0 },
      { kind: 'line', stream: 'stderr', marker: null, text: 'checkpoint', plain: 'checkpoint', time, member: 1 },
      {
        kind: 'marker',
        stream: null,
        marker: 'exit',
        text: 'database exited with code 0',
        plain: 'database exited with code 0',
        time: null,
        member: 1,
      },
    ]);
    t.equal(
      visibleText(store, { timestamps: false, members }),
      '-- 1 older lines were dropped before these --\nweb      | GET /\ndatabase | checkpoint\n-- database exited with code 0 --\n',
    );
    t.equal(
      visibleText(store, { timestamps: true, members }).split('\n')[1],
      `${time} web      | GET /`,
      'the time first, as docker compose logs -t',
    );
    const filter = parseFilter('check');
    store.setFilter(filter.kind === 'ok' ? filter.matcher : null);
    t.equal(
      visibleText(store, { timestamps: false, members }),
      '-- 1 older lines were dropped before these --\ndatabase | checkpoint\n',
      'only what the filter lets through',
    );
    t.equal(visibleText(new LineStore(1), { timestamps: false, members: [] }), '', 'nothing: an empty file');
  },
);
