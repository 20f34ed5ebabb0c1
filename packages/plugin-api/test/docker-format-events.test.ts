// DockerFormatEventStream (the moby and podman plugins' event streams): NDJSON across chunk
// boundaries, the engine's actions mapped, destroy described as last known, the end of the body.
import t from 'tap';
import {
  DockerFormatEventStream,
  type ContainerEvent,
  type ContainerInfo,
  type DockerFormatEventStreamInit,
  type EventsBody,
} from '@enginegate/plugin-api';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function body(chunks: Buffer[]): EventsBody & { destroyed: boolean } {
  const result = {
    destroyed: false,
    destroy() {
      result.destroyed = true;
    },
    async *[Symbol.asyncIterator]() {
      for (const chunk of chunks) yield chunk;
    },
  };
  return result;
}

function message(action: string, id: string, attributes: Record<string, string>, timeNano: string): string {
  return `{"Type":"container","Action":"${action}","Actor":{"ID":"${id}","Attributes":${JSON.stringify(attributes)}},"time":1,"timeNano":${timeNano}}\n`;
}

function stream(chunks: Buffer[], overrides: Partial<DockerFormatEventStreamInit> = {}) {
  const info = (id: string): ContainerInfo => ({
    id,
    names: ['described'],
    image: 'img',
    state: 'whatever',
    tty: true,
    createdAt: 'c',
    labels: { from: 'describe' },
  });
  return new DockerFormatEventStream({
    body: body(chunks),
    signal: new AbortController().signal,
    logger: silent,
    actions: {
      made: { action: 'create', state: 'created' },
      died: { action: 'die', state: 'exited' },
      gone: { action: 'destroy', state: 'removed' },
    },
    exitCodeAttribute: 'code',
    notLabels: new Set(['name', 'code']),
    describe: (id) => Promise.resolve(id === 'gone-already' ? undefined : info(id)),
    ping: () => Promise.reject(new Error('down')),
    messages: { ended: 'ended', lost: 'lost' },
    onLost() {},
    ...overrides,
  });
}

async function collect(events: AsyncIterable<ContainerEvent[]>): Promise<{ events: ContainerEvent[]; error: unknown }> {
  const all: ContainerEvent[] = [];
  try {
    for await (const batch of events) all.push(...batch);
    return { events: all, error: undefined };
  } catch (error) {
    return { events: all, error };
  }
}

t.test('lines split anywhere (inside a UTF-8 character too) make the same events', async (t) => {
  const text =
    message('made', 'a', { name: 'ä-one' }, '1796280106596575470') +
    message('init', 'a', {}, '2') +
    '{"Type":"image","Action":"made","Actor":{"ID":"x"}}\n' +
    'not json\n' +
    message('died', 'a', { name: 'ä-one', code: '137' }, '1796280106795298092') +
    message('gone', 'a', { name: 'ä-one' }, '1796280107878681556');
  const bytes = Buffer.from(text);
  const cut = bytes.indexOf(Buffer.from('ä')) + 1;
  const { events, error } = await collect(
    stream([bytes.subarray(0, cut), bytes.subarray(cut, cut + 7), bytes.subarray(cut + 7)]),
  );
  t.same(
    events.map((e) => [e.action, e.container.state, e.container.names[0], e.exitCode]),
    [
      ['create', 'created', 'ä-one', undefined],
      ['die', 'exited', 'ä-one', 137],
      ['destroy', 'removed', 'ä-one', undefined],
    ],
    "only the mapped container actions; the engine's name, the action's state, die's exit code",
  );
  t.equal(events[0]!.time, 1796280106596575470n, 'timeNano exactly (beyond a double)');
  t.same(events[2]!.container.labels, { from: 'describe' }, 'destroy: the container as last described');
  t.match(error, { code: 'ENGINE_UNAVAILABLE', message: 'lost' }, 'the body ended and the engine does not answer');
});

t.test('a container gone before it was described: its attributes; the end while the engine answers', async (t) => {
  let lost = 0;
  const events = stream(
    [Buffer.from(message('made', 'gone-already', { name: 'n', image: 'i', team: 'x', code: '0' }, '5'))],
    {
      ping: () => Promise.resolve(),
      onLost: () => lost++,
    },
  );
  const { events: all, error } = await collect(events);
  t.match(all[0]!.container, { id: 'gone-already', names: ['n'], image: 'i', labels: { team: 'x' }, state: 'created' });
  t.notOk('code' in all[0]!.container.labels, 'attributes that are not labels are left out');
  t.match(error, { code: 'ENGINE_UNAVAILABLE', message: 'ended' });
  t.equal(lost, 0, 'no outage reported while the engine answers');
});
