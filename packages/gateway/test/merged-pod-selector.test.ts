// `pod=NAME`: the containers of a Podman pod as one merged stream's members, by the pod the
// engine lists each container in (`ContainerInfo.pod`), the pod's infra container left out.
import t from 'tap';
import type { ContainerInfo } from '@enginegate/plugin-api';
import { matchesSelector, parseMemberSelector, selectMembers } from '../src/merged/member-selection.js';

const POD_ID = 'a1'.repeat(32);

function container(name: string, pod?: { id: string; name: string }, infra = false): ContainerInfo {
  return {
    id: name.padEnd(64, '0'),
    names: [name],
    image: 'busybox',
    state: 'running',
    tty: false,
    createdAt: '',
    labels: {},
    ...(pod !== undefined && { pod }),
    ...(infra && { infra: true as const }),
  };
}

t.test('pod=NAME parses alone; mixed, repeated or malformed it is a 400 naming pod', async (t) => {
  t.same(parseMemberSelector({ pod: 'shop' }), { kind: 'pod', pod: 'shop' });
  t.same(parseMemberSelector({ pod: POD_ID }), { kind: 'pod', pod: POD_ID });
  for (const other of [{ container: 'a' }, { label: 'x=1' }, { project: 'demo' }, { all: 'true' }]) {
    t.throws(() => parseMemberSelector({ pod: 'shop', ...other }), { code: 'INVALID_ARGUMENT', parameter: 'pod' });
  }
  t.throws(() => parseMemberSelector({ pod: 'shop', service: 'web' }), {
    code: 'INVALID_ARGUMENT',
    message: /does not mix with .*pod=/,
  });
  t.throws(() => parseMemberSelector({ pod: ['shop', 'db'] }), { code: 'INVALID_ARGUMENT', parameter: 'pod' });
  for (const bad of ['', '-shop', 'shop/1', 'a'.repeat(256), 'sh op']) {
    t.throws(() => parseMemberSelector({ pod: bad }), { code: 'INVALID_ARGUMENT', parameter: 'pod' }, bad);
  }
});

t.test("the members are the pod's containers, by pod name or ID, without its infra container", async (t) => {
  const shop = { id: POD_ID, name: 'shop' };
  const containers = [
    container('shop-web', shop),
    container(`${POD_ID.slice(0, 12)}-infra`, shop, true),
    container('alone'),
    container('other-web', { id: 'b2'.repeat(32), name: 'other' }),
    container('shop-db', shop),
  ];
  for (const pod of ['shop', POD_ID]) {
    t.same(
      selectMembers({ kind: 'pod', pod }, containers).map((c) => c.names[0]),
      ['shop-db', 'shop-web'],
      `pod=${pod.slice(0, 12)}: its containers by name, no infra, no other pod`,
    );
  }
  t.notOk(
    matchesSelector({ kind: 'pod', pod: 'shop' }, container('shop', undefined)),
    'a container named like the pod is no member',
  );
});
