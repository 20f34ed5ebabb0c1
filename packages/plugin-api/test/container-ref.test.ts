import t from 'tap';
import {
  validateContainerRef,
  validateNamespace,
  looksLikeIdPrefix,
  InvalidArgumentError,
} from '@enginegate/plugin-api';

t.test('accepts IDs, prefixes and names', async (t) => {
  for (const ok of ['a', 'abc123', 'my_app.web-1', 'f'.repeat(64), 'x'.repeat(255)])
    t.equal(validateContainerRef(ok), ok);
});

t.test('refuses what no engine should see', async (t) => {
  for (const bad of ['', '../x', '/etc', '.hidden', '-rf', 'a b', 'a/b', 'x'.repeat(256), 'é', undefined, 7]) {
    const err = t.throws(() => validateContainerRef(bad)) as InvalidArgumentError;
    t.ok(err instanceof InvalidArgumentError, String(bad));
    t.equal(err.parameter, 'container');
  }
  t.match((t.throws(() => validateContainerRef('x'.repeat(300))) as Error).message, /255 bytes/);
});

t.test('namespaces and ID prefixes', async (t) => {
  t.equal(validateNamespace('k8s.io'), 'k8s.io');
  t.throws(() => validateNamespace('../moby'), InvalidArgumentError);
  t.ok(looksLikeIdPrefix('abc123'));
  t.notOk(looksLikeIdPrefix('web'));
});
