// The poller's rule: what changed between two listings, as container events.
import t from 'tap';
import type { ContainerInfo } from '@enginegate/plugin-api';
import { diffContainers } from '../src/events/container-diff.js';

const info = (id: string, state: string, names = [id]): ContainerInfo => ({
  id,
  names,
  image: 'img',
  state,
  tty: false,
  createdAt: '',
  labels: {},
});
const byId = (list: ContainerInfo[]) => new Map(list.map((c) => [c.id, c]));

t.test('new, started, died, renamed, paused and removed containers', async (t) => {
  const before = byId([
    info('run', 'running'),
    info('dies', 'running'),
    info('gone', 'exited'),
    info('ren', 'running'),
  ]);
  const after = [
    info('run', 'running'),
    info('dies', 'exited'),
    info('ren', 'paused', ['renamed']),
    info('new', 'created'),
    info('newrun', 'running'),
    info('newdead', 'exited'),
  ];
  const events = diffContainers(before, after, 5n);
  t.same(
    events.map((e) => `${e.action} ${e.container.id} ${e.container.state}`),
    [
      'die dies exited',
      'rename ren paused',
      'update ren paused',
      'create new created',
      'create newrun running',
      'start newrun running',
      'create newdead exited',
      'die newdead exited',
      'destroy gone removed',
    ],
  );
  t.ok(events.every((e) => e.time === 5n && e.exitCode === undefined));
  t.same(diffContainers(byId(after), after, 6n), [], 'nothing changed: no events');
});
