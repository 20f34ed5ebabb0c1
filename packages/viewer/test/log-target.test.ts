import t from 'tap';
import { logsPath, sameTarget, targetFileStem, targetLabel } from '../src/app/log-target.js';
import { followOne, followProject, targetOf, toggle, EMPTY_SELECTION } from '../src/app/selection.js';

t.test('the logs route for each kind of target', async (t) => {
  t.equal(
    logsPath({ kind: 'container', name: 'mock-chatty' }, { tail: 100 }),
    '/passthrough/engine/logs/mock-chatty?follow=true&tail=100',
  );
  t.equal(
    logsPath({ kind: 'container', name: 'web', namespace: 'k8s.io' }, { tail: 5, follow: false }),
    '/passthrough/engine/logs/web?namespace=k8s.io&follow=false&tail=5',
  );
  t.equal(
    logsPath({ kind: 'containers', names: ['a', 'b'] }, { tail: 10, after: 't1.0' }),
    '/passthrough/engine/logs?container=a&container=b&follow=true&after=t1.0',
    'after= replaces tail=',
  );
  t.equal(
    logsPath({ kind: 'project', project: 'demo' }, { tail: 1 }),
    '/passthrough/engine/logs?project=demo&follow=true&tail=1',
  );
});

t.test('labels, file names, sameness', async (t) => {
  t.equal(targetLabel({ kind: 'project', project: 'demo' }), 'project demo');
  t.equal(targetLabel({ kind: 'containers', names: ['a', 'b'] }), 'a, b');
  t.equal(targetFileStem({ kind: 'containers', names: ['a', 'b c'] }), 'a+b_c');
  t.ok(sameTarget({ kind: 'container', name: 'a' }, { kind: 'container', name: 'a' }));
  t.notOk(sameTarget({ kind: 'container', name: 'a' }, { kind: 'containers', names: ['a'] }));
  t.ok(sameTarget(null, null));
});

t.test('selection: one name follows one; several merge; a project follows by project', async (t) => {
  t.equal(targetOf(EMPTY_SELECTION), null);
  t.same(targetOf(followOne('web')), { kind: 'container', name: 'web' });
  t.same(
    targetOf(followOne('web'), () => 'k8s.io'),
    { kind: 'container', name: 'web', namespace: 'k8s.io' },
  );
  const two = toggle(followOne('web'), 'db');
  t.same(targetOf(two), { kind: 'containers', names: ['web', 'db'] });
  t.same(targetOf(toggle(two, 'web')), { kind: 'container', name: 'db' }, 'unticking one of two');
  const project = followProject('demo', ['demo-web-1', 'demo-db-1']);
  t.same(targetOf(project), { kind: 'project', project: 'demo' });
  t.same(
    targetOf(toggle(project, 'demo-db-1')),
    { kind: 'container', name: 'demo-web-1' },
    'unticking a member leaves the others, by name',
  );
});
