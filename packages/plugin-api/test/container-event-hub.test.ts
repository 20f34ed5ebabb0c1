// ContainerEventHub: fan-out in order from subscription on, release, a bound per subscriber.
import t from 'tap';
import { ContainerEventHub, type ContainerEvent } from '@enginegate/plugin-api';

const event = (id: string): ContainerEvent => ({
  action: 'start',
  container: { id, names: [id], image: 'i', state: 'running', tty: false, createdAt: '', labels: {} },
  time: 1n,
});
const ids = (batch: ContainerEvent[] | undefined) => (batch ?? []).map((e) => e.container.id);

t.test('every subscriber gets the events published after it subscribed, in order', async (t) => {
  const hub = new ContainerEventHub();
  hub.publish([event('before')]);
  const a = hub.subscribe(new AbortController().signal);
  const b = hub.subscribe(new AbortController().signal);
  t.equal(hub.size, 2);
  const pending = a.next();
  hub.publish([event('one')]);
  hub.publish([event('two'), event('three')]);
  t.same(ids((await pending).value), ['one'], 'a waiting subscriber gets the batch at once');
  t.same(ids((await a.next()).value), ['two', 'three']);
  t.same(ids((await b.next()).value), ['one', 'two', 'three'], 'queued batches come as one');
  hub.close();
  t.same(await a.next(), { done: true, value: undefined });
  t.equal(hub.size, 0);
});

t.test('abort and return() release; close(error) throws it; a slow subscriber is ended', async (t) => {
  const hub = new ContainerEventHub(3);
  const abort = new AbortController();
  const aborted = hub.subscribe(abort.signal);
  const returned = hub.subscribe(new AbortController().signal);
  const failing = hub.subscribe(new AbortController().signal);
  const slow = hub.subscribe(new AbortController().signal);
  const waiting = aborted.next();
  abort.abort();
  t.same(await waiting, { done: true, value: undefined }, 'abort ends a waiting next()');
  await returned.return!();
  t.equal(hub.size, 2);
  hub.publish([event('1'), event('2'), event('3'), event('4')]);
  await t.rejects(slow.next(), { code: 'INTERNAL', message: /fell more than 3 container events behind/ });
  await t.rejects(failing.next(), { code: 'INTERNAL' }, 'the bound applies to every subscriber');
  const late = hub.subscribe(new AbortController().signal);
  const next = late.next();
  hub.close(new Error('engine gone'));
  await t.rejects(next, /engine gone/);
  t.equal(hub.size, 0);
});
