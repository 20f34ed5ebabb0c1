import t from 'tap';
import { ContainerDirectory, displayName, type ContainerInfo } from '../src/app/container-directory.js';

function container(name: string, project?: string, state = 'running'): ContainerInfo {
  return {
    id: `${name}-id`.padEnd(64, '0'),
    names: [name],
    image: `img/${name}`,
    state,
    tty: false,
    createdAt: '2024-01-02T15:04:05.000000000Z',
    labels: project === undefined ? {} : { 'com.docker.compose.project': project },
  };
}

t.test('events: present, then synced, then changes; destroy removes', async (t) => {
  const directory = new ContainerDirectory();
  t.equal(directory.synced, false);
  t.ok(directory.apply({ type: 'container', action: 'present', container: container('web', 'demo') }));
  t.ok(directory.apply({ type: 'synced' }));
  t.equal(directory.synced, true);
  t.ok(directory.apply({ type: 'container', action: 'die', container: container('web', 'demo', 'exited') }));
  t.equal(directory.byName('web')?.state, 'exited', 'the container as it is after the event');
  t.ok(directory.apply({ type: 'container', action: 'destroy', container: container('web', 'demo', 'removed') }));
  t.equal(directory.size, 0);
  t.notOk(directory.apply({ type: 'gap', reason: 'x' }), 'other records change nothing');
});

t.test('groups: Compose projects first by name, then the rest; containers by name; search narrows', async (t) => {
  const directory = new ContainerDirectory();
  directory.replaceAll([
    container('zeta'),
    container('demo-web-1', 'demo'),
    container('alpha'),
    container('demo-db-1', 'demo'),
    container('api-1', 'another'),
  ]);
  t.same(
    directory.groups().map((g) => [g.project, g.containers.map(displayName)]),
    [
      ['another', ['api-1']],
      ['demo', ['demo-db-1', 'demo-web-1']],
      [null, ['alpha', 'zeta']],
    ],
  );
  t.same(
    directory.groups('WEB').map((g) => [g.project, g.containers.map(displayName)]),
    [['demo', ['demo-web-1']]],
    'by name, case-insensitively',
  );
  t.same(
    directory.groups('demo').flatMap((g) => g.containers.map(displayName)),
    ['demo-db-1', 'demo-web-1'],
    'by project',
  );
  t.same(
    directory.groups('img/alpha').flatMap((g) => g.containers.map(displayName)),
    ['alpha'],
    'by image',
  );
});

t.test('a container without a name is shown by its short ID', async (t) => {
  t.equal(
    displayName({ id: 'abcdef0123456789', names: [], image: 'x', state: 'running', tty: false, createdAt: '' }),
    'abcdef012345',
  );
});
