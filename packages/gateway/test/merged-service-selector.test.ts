// `service=NAME`: the tasks of a Docker Swarm service as one merged stream's members, matched by
// the labels Docker puts on a task's container and named as `docker service logs` names them.
import t from 'tap';
import type { ContainerInfo } from '@enginegate/plugin-api';
import { containerName, parseMemberSelector, selectMembers } from '../src/merged/member-selection.js';

const SERVICE_ID = 'n6yr8n7qs2k8hz5w5zeb3qka8';

function task(slot: number, taskId: string, node?: string, service = 'web'): ContainerInfo {
  return {
    id: `${slot}${taskId}`.padEnd(64, '0'),
    names: [`${service}.${slot}.${taskId}`],
    image: 'busybox',
    state: 'running',
    tty: false,
    createdAt: '',
    labels: {
      'com.docker.swarm.service.id': service === 'web' ? SERVICE_ID : 'other0000000000000000000',
      'com.docker.swarm.service.name': service,
      'com.docker.swarm.task.id': taskId,
      'com.docker.swarm.task.name': `${service}.${slot}.${taskId}`,
      'com.docker.swarm.node.id': '1uqjals79v9l8pk0xb9982mcn',
      'com.docker.swarm.task': '',
    },
    ...(node !== undefined ? { node } : {}),
  };
}

const plain: ContainerInfo = {
  id: 'f'.repeat(64),
  names: ['web'],
  image: 'busybox',
  state: 'running',
  tty: false,
  createdAt: '',
  labels: { 'com.docker.compose.service': 'web' },
};

t.test('service=NAME parses alone; mixed, repeated or malformed it is a 400 naming service', async (t) => {
  t.same(parseMemberSelector({ service: 'web' }), { kind: 'service', service: 'web' });
  t.same(parseMemberSelector({ service: SERVICE_ID }), { kind: 'service', service: SERVICE_ID });
  for (const other of [{ container: 'a' }, { label: 'x=1' }, { project: 'demo' }, { all: 'true' }]) {
    t.throws(() => parseMemberSelector({ service: 'web', ...other }), {
      code: 'INVALID_ARGUMENT',
      parameter: 'service',
    });
  }
  t.throws(() => parseMemberSelector({ service: ['web', 'db'] }), { code: 'INVALID_ARGUMENT', parameter: 'service' });
  for (const bad of ['', '-web', 'web/1', 'a'.repeat(64), 'we b']) {
    t.throws(() => parseMemberSelector({ service: bad }), { code: 'INVALID_ARGUMENT', parameter: 'service' }, bad);
  }
});

t.test('the members are the service’s tasks, by name or ID, in slot order', async (t) => {
  const containers = [task(2, 'aw0d3sr2gadjfkievpjqyebu7', 'vm'), plain, task(1, 'c63rl7t43zqd1x4tppyvxudxk', 'vm')];
  containers.push(task(1, 'qg8p7cjkca2vqylnp3395522x', 'vm', 'db'));
  const byName = selectMembers({ kind: 'service', service: 'web' }, containers);
  t.same(
    byName.map((c) => containerName(c)),
    ['web.1.c63rl7t43zqd@vm', 'web.2.aw0d3sr2gadj@vm'],
    'named as docker service logs names them',
  );
  const byId = selectMembers({ kind: 'service', service: SERVICE_ID }, containers);
  t.same(
    byId.map((c) => c.id),
    byName.map((c) => c.id),
  );
  t.same(selectMembers({ kind: 'service', service: 'nope' }, containers), [], 'an unknown service has no members yet');
});

t.test('a task without a node is named without @; other containers keep their first name', async (t) => {
  t.equal(containerName(task(3, 'l06lja3oiytsq0z5mh4pmsdyb')), 'web.3.l06lja3oiyts');
  t.equal(containerName(plain), 'web');
});
