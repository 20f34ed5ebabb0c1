// A merged stream's records in every framing: JSON names the container, text and raw prefix
// `name | `, binary carries the member index; joins and leaves are control records.
import t from 'tap';
import type { ContainerInfo } from '@enginegate/plugin-api';
import { createFramer } from '../src/logs/log-framing.js';
import { memberKey, MAX_MEMBERS, type Member } from '../src/merged/member.js';
import type { StreamRecord } from '../src/merged/merged-record.js';
import { parseMemberSelector, selectMembers } from '../src/merged/member-selection.js';

const web: Member = { index: 0, id: 'aaaa1111', name: 'web-1', key: memberKey('aaaa1111') };
const db: Member = { index: 1, id: 'bbbb2222', name: 'database-1', key: memberKey('bbbb2222') };
const records: StreamRecord[] = [
  { type: 'join', member: web },
  { type: 'join', member: db },
  { type: 'line', member: web, stream: 'stdout', time: 1n, line: Buffer.from('hello'), cursor: 'm1' },
  { type: 'line', member: db, stream: 'stderr', time: 2n, line: Buffer.from('ready'), cursor: 'm2' },
  { type: 'exit', member: web, exitCode: 3 },
  { type: 'leave', member: web, exitCode: 3 },
];

t.test('JSON: container and name on lines and exits; join and leave with the index', async (t) => {
  const { messages } = createFramer('json', { timestamps: false }).frame(records);
  t.same(
    (messages as string[]).map((m) => JSON.parse(m) as unknown),
    [
      { type: 'join', container: 'aaaa1111', name: 'web-1', index: 0 },
      { type: 'join', container: 'bbbb2222', name: 'database-1', index: 1 },
      {
        type: 'line',
        container: 'aaaa1111',
        name: 'web-1',
        stream: 'stdout',
        time: '1970-01-01T00:00:00.000000001Z',
        line: 'hello',
        cursor: 'm1',
      },
      {
        type: 'line',
        container: 'bbbb2222',
        name: 'database-1',
        stream: 'stderr',
        time: '1970-01-01T00:00:00.000000002Z',
        line: 'ready',
        cursor: 'm2',
      },
      { type: 'exit', container: 'aaaa1111', name: 'web-1', exitCode: 3 },
      { type: 'leave', container: 'aaaa1111', name: 'web-1', index: 0, exitCode: 3 },
    ],
  );
});

t.test('text and raw: padded name prefixes before the timestamp; prefix=false leaves them out', async (t) => {
  const text = createFramer('text', { timestamps: true, names: true }).frame(records).messages;
  t.same(text, [
    'web-1      | 1970-01-01T00:00:00.000000001Z hello',
    'database-1 | 1970-01-01T00:00:00.000000002Z ready',
  ]);
  const raw = createFramer('raw', { timestamps: false, names: true }).frame(records).messages;
  t.equal(Buffer.concat(raw as Buffer[]).toString(), 'web-1      | hello\ndatabase-1 | ready\n');
  const bare = createFramer('raw', { timestamps: false, names: false }).frame(records).messages;
  t.equal(Buffer.concat(bare as Buffer[]).toString(), 'hello\nready\n');
});

t.test('binary: stream byte, 4-byte member index, the line; controls as byte 3 JSON', async (t) => {
  const messages = createFramer('binary', { timestamps: false }).frame(records).messages as Buffer[];
  t.equal(messages.length, 6);
  t.equal(messages[0]![0], 3);
  t.same(JSON.parse(messages[0]!.subarray(1).toString()), {
    type: 'join',
    container: 'aaaa1111',
    name: 'web-1',
    index: 0,
  });
  t.equal(messages[3]![0], 2, 'stderr');
  t.equal(messages[3]!.readUInt32BE(1), 1, 'member index');
  t.equal(messages[3]!.subarray(5).toString(), 'ready');
});

function info(id: string, name: string, labels: Record<string, string> = {}): ContainerInfo {
  return { id, names: [name], image: 'busybox', state: 'running', tty: false, createdAt: '', labels };
}

t.test('selectors: container, label, project, all; clear 400s', async (t) => {
  t.same(parseMemberSelector({ container: ['a', 'b'] }), { kind: 'containers', refs: ['a', 'b'] });
  t.same(parseMemberSelector({ label: 'x=1', project: 'demo' }), {
    kind: 'labels',
    labels: [
      { key: 'x', value: '1' },
      { key: 'com.docker.compose.project', value: 'demo' },
    ],
  });
  t.same(parseMemberSelector({ label: 'tier' }), { kind: 'labels', labels: [{ key: 'tier' }] });
  t.same(parseMemberSelector({ all: 'true' }), { kind: 'all' });
  t.equal(parseMemberSelector({ follow: 'true' }), undefined, 'no selector: not a merged request');
  const bad: Array<[Record<string, string | string[]>, string]> = [
    [{ container: 'a', label: 'x' }, 'container'],
    [{ container: 'a', all: 'true' }, 'container'],
    [{ all: 'true', project: 'p' }, 'all'],
    [{ all: 'yes' }, 'all'],
    [{ project: ['a', 'b'] }, 'project'],
    [{ label: '=v' }, 'label'],
    [{ container: 'bad/ref' }, 'container'],
    [{ container: Array.from({ length: MAX_MEMBERS + 1 }, (_, i) => `c${i}`) }, 'container'],
  ];
  for (const [query, parameter] of bad)
    t.throws(
      () => parseMemberSelector(query),
      { code: 'INVALID_ARGUMENT', parameter },
      JSON.stringify(query).slice(0, 60),
    );
});

t.test('members: a list in its order (404/409 for bad references), selectors by name', async (t) => {
  const containers = [
    info('c0ffee01', 'web-1', { 'com.docker.compose.project': 'demo' }),
    info('c0ffee02', 'api-1', { 'com.docker.compose.project': 'demo', tier: 'back' }),
    info('deadbeef', 'other'),
  ];
  t.same(
    selectMembers({ kind: 'containers', refs: ['other', 'c0ffee01', 'web-1'] }, containers).map((c) => c.id),
    ['deadbeef', 'c0ffee01'],
    'list order, duplicates dropped',
  );
  t.throws(() => selectMembers({ kind: 'containers', refs: ['nope'] }, containers), { code: 'CONTAINER_NOT_FOUND' });
  t.throws(() => selectMembers({ kind: 'containers', refs: ['c0ffee'] }, containers), { code: 'AMBIGUOUS_CONTAINER' });
  t.same(
    selectMembers(parseMemberSelector({ project: 'demo' })!, containers).map((c) => c.names[0]),
    ['api-1', 'web-1'],
  );
  t.same(
    selectMembers(parseMemberSelector({ label: 'tier=back' })!, containers).map((c) => c.names[0]),
    ['api-1'],
  );
  t.equal(selectMembers({ kind: 'all' }, containers).length, 3);
});
