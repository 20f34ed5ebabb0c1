import type { Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { ERROR_CODES, isEngineGateError, type ContainerInfo } from '@enginegate/plugin-api';
import { lineRecords } from '../framing-decoders.js';
import { HttpStatusError } from '@enginegate/test-client';
import {
  SETTLE_TIMEOUT_MS,
  eventually,
  numberedLines,
  sameLines,
  type SuiteHarness,
  type TestContainer,
} from '../suite-harness.js';
import type { Scenario } from './scenario.js';

const notFound: Scenario = async (t, h) => {
  const unknownName = `egtk-nosuch-${randomBytes(4).toString('hex')}`;
  await h.expectRefusal(t, unknownName, { follow: false }, 404, 'CONTAINER_NOT_FOUND');
  await h.expectRefusal(t, unknownName, { follow: true }, 404, 'CONTAINER_NOT_FOUND', { framing: 'raw' });
  await h.expectRefusal(t, randomBytes(32).toString('hex'), {}, 404, 'CONTAINER_NOT_FOUND', {
    label: 'an unknown 64-hex ID',
  });

  // A removed container is gone, and a stream that followed it ends rather than hanging.
  const written = numberedLines('removed', 2);
  const container = await h.createContainer(t, written, {});
  sameLines(
    t,
    lineRecords(await h.readJsonWhenComplete(container.ref, written.length)),
    written,
    'the container serves its logs before removal',
  );
  const followed = await h.client.openSocket(container.ref, { follow: true }, 'json');
  await followed.waitFor((messages) => messages.length >= written.length, 'the lines written');
  await container.remove();
  const close = await followed.waitClosed(SETTLE_TIMEOUT_MS);
  t.ok([1000, 1011].includes(close.code), `a followed stream ends when its container is removed (close ${close.code})`);
  await h.expectRefusal(t, container.ref, { follow: false }, 404, 'CONTAINER_NOT_FOUND', {
    label: 'a removed container',
  });
};

const ambiguous: Scenario = async (t, h) => {
  // Create containers until two IDs share a first hex digit: 17 make it certain, about 5 make it likely.
  const created: Array<{ ref: string; id: string }> = [];
  let pair: [{ ref: string; id: string }, { ref: string; id: string }] | undefined;
  let listing: ContainerInfo[] = [];
  for (let i = 0; i < 17 && !pair; i++) {
    const container = await h.createContainer(t, [{ stream: 'stdout', bytes: Buffer.from(`prefix ${i}`) }], {});
    const answer = await h.client.request('GET', '/passthrough/engine/containers');
    listing = Array.isArray(answer.json) ? (answer.json as ContainerInfo[]) : [];
    const info = listing.find((c) => c.id === container.ref || c.names.includes(container.ref));
    if (!info) {
      t.fail(
        `container ${container.ref} is not listed by GET /passthrough/engine/containers (status ${answer.status})`,
      );
      return;
    }
    if (!/^[0-9a-f]+$/.test(info.id)) {
      t.fail(`container IDs are not hex (${info.id}): declare capabilities.idPrefix = false with the reason`);
      return;
    }
    const mine = { ref: container.ref, id: info.id };
    const partner = created.find((other) => other.id[0] === mine.id[0]);
    if (partner) pair = [partner, mine];
    created.push(mine);
  }
  if (!pair) {
    t.fail('17 containers and no two IDs share a first digit: IDs are not random hex');
    return;
  }
  let shared = 0;
  while (pair[0].id[shared] === pair[1].id[shared]) shared++;
  const prefix = pair[0].id.slice(0, shared);
  const takenAsName = listing.some((c) => c.id === prefix || c.names.includes(prefix));
  if (!takenAsName) {
    await h.expectRefusal(t, prefix, { follow: false }, 409, 'AMBIGUOUS_CONTAINER', {
      label: `ID prefix ${prefix} shared by two containers`,
    });
  }

  const target = created[0]!;
  const byPrefix = lineRecords(await h.readJsonWhenComplete(target.id.slice(0, 12), 1));
  sameLines(
    t,
    byPrefix,
    [{ stream: 'stdout', bytes: Buffer.from('prefix 0') }],
    'a unique 12-digit ID prefix resolves to its container',
  );
  const byId = lineRecords(await h.readJsonWhenComplete(target.id, 1));
  sameLines(t, byId, [{ stream: 'stdout', bytes: Buffer.from('prefix 0') }], 'the full ID resolves to its container');
};

/** References no engine should ever see, as they appear in the URL path. */
const BAD_REFS = ['..%2Fetc', '-rf', '.hidden', 'a%20b', '%C3%A9t%C3%A9', 'x'.repeat(256), 'a%00b', 'a%2Fb'];

const badRef: Scenario = async (t, h) => {
  const opensBefore = h.probe.opened.length;
  for (const ref of BAD_REFS) {
    await h.expectRefusal(t, ref, { follow: false }, 400, 'INVALID_ARGUMENT', {
      label: `reference ${ref.length > 40 ? `${ref.slice(0, 20)}… (${ref.length})` : ref}`,
    });
  }
  t.equal(
    h.probe.opened.length,
    opensBefore,
    'no malformed reference reached the engine (LogSource.open was not called)',
  );
};

/** [parameter, bad value] pairs: each must be a 400 whose message names the parameter. */
const BAD_PARAMS: Array<[string, string]> = [
  ['tail', '-1'],
  ['tail', 'abc'],
  ['tail', '1.5'],
  ['since', 'yesterday'],
  ['until', 'not-a-time'],
  ['follow', 'maybe'],
  ['timestamps', '2'],
  ['stdout', 'yes'],
  ['stderr', 'nope'],
  ['after', 'garbage'],
  ['after', 't1.x'],
];

const badParams: Scenario = async (t, h) => {
  const { container } = await h.createFinished(t, numberedLines('params', 1));
  const opensBefore = h.probe.opened.length;
  for (const [parameter, value] of BAD_PARAMS) {
    await h.expectRefusal(t, container.ref, { follow: false, [parameter]: value }, 400, 'INVALID_ARGUMENT', {
      messageMatches: new RegExp(parameter),
      label: `${parameter}=${value}`,
    });
  }
  try {
    const socket = await h.client.openSocket(container.ref, { follow: false }, 'json', ['v9.unknown.enginegate']);
    socket.close();
    t.fail('an offer of only unknown subprotocols was accepted');
  } catch (err) {
    if (!(err instanceof HttpStatusError)) throw err;
    t.equal(err.status, 400, 'an offer of only unknown subprotocols is a 400');
    t.equal(err.error?.code, 'INVALID_ARGUMENT', 'an offer of only unknown subprotocols: INVALID_ARGUMENT');
  }
  t.equal(
    h.probe.opened.length,
    opensBefore,
    'no malformed request reached the engine (LogSource.open was not called)',
  );

  const mixed = await h.client.openSocket(container.ref, { follow: false }, 'json', [
    'v9.unknown.enginegate',
    'v1.json.enginegate',
  ]);
  t.equal(mixed.protocol, 'v1.json.enginegate', 'an offer of an unknown and a known subprotocol picks the known one');
  await mixed.waitClosed();
};

async function engineState(h: SuiteHarness): Promise<string | undefined> {
  const answer = await h.client.request('GET', '/engine');
  return (answer.json as { state?: string } | undefined)?.state;
}

const stopped503: Scenario = async (t, h) => {
  const name = h.target.plugin.name;
  const { ref } = await h.createContainer(t, numberedLines('stop', 1), {});
  const followed = await h.client.openSocket(ref, { follow: true }, 'json');
  await followed.waitFor((messages) => messages.length >= 1, 'the first line');

  // The gateway stops the engine (PUT /engine {"name": null}): open streams end, logs are a 503.
  const put = await h.client.request('PUT', '/engine', { name: null });
  t.ok(put.status >= 200 && put.status < 300, `PUT /engine {"name":null} answers ${put.status}`);
  const close = await followed.waitClosed(SETTLE_TIMEOUT_MS);
  t.equal(close.code, 1012, 'a stream open when its engine stops closes with 1012 (reconnect with after=)');
  t.ok(await eventually(() => h.probe.active.length === 0, 2_000), 'stop() ended every open log iterable');
  await h.expectRefusal(t, ref, { follow: false }, 503, 'ENGINE_UNAVAILABLE', {
    label: 'logs with the engine stopped',
  });
  t.equal((await h.client.request('GET', '/readyz')).status, 503, 'GET /readyz is 503 with no engine running');

  const restart = await h.client.request('PUT', '/engine', { name });
  t.ok(restart.status >= 200 && restart.status < 300, `PUT /engine {"name":"${name}"} answers ${restart.status}`);
  t.ok(
    await eventually(async () => (await engineState(h)) === 'running', 30_000, 200),
    `the ${name} engine runs again`,
  );
  const written = numberedLines('restarted', 2);
  const fresh = await h.createContainer(t, written, {});
  sameLines(
    t,
    lineRecords(await h.readJsonWhenComplete(fresh.ref, written.length)),
    written,
    "after the restart, a new container's logs are served",
  );

  if (!h.target.engineHandle) {
    t.comment("no engineHandle given: the engine itself is not stopped (only the gateway's use of it)");
    return;
  }
  await engineItselfDown(t, h, h.target.engineHandle, fresh.ref);
};

/** The engine itself goes away (its daemon stops): the gateway answers 503 until it is back. */
async function engineItselfDown(
  t: Test,
  h: SuiteHarness,
  handle: NonNullable<SuiteHarness['target']['engineHandle']>,
  ref: string,
): Promise<void> {
  await handle.stop();
  try {
    const refused = await eventually(
      async () => (await h.client.readHttp(ref, { follow: false })).status === 503,
      20_000,
      200,
    );
    t.ok(refused, 'with the engine itself stopped, logs are a 503');
    if (refused)
      await h.expectRefusal(t, ref, { follow: false }, 503, 'ENGINE_UNAVAILABLE', {
        label: 'logs with the engine down',
      });
  } finally {
    await handle.start();
  }
  // Creating a container needs the engine back; reading it needs the gateway to have noticed.
  let back: TestContainer | undefined;
  await eventually(
    async () => {
      try {
        back = await h.createContainer(t, numberedLines('back', 1), {});
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    500,
  );
  t.ok(back, 'once the engine is back, containers can be created again');
  const served =
    back !== undefined &&
    (await eventually(async () => (await h.client.readHttp(back!.ref, { follow: false })).status === 200, 30_000, 200));
  t.ok(served, 'once the engine is back, the gateway serves its logs again');
}

/**
 * The gateway tells a plugin's errors apart by plugin-api's brand and code, never by
 * `instanceof`, so that a plugin with its own copy of plugin-api gets its 404s (not a 500). This
 * gateway shares the plugin's copy and would not notice a plugin that throws errors of its own
 * making: ask the engine itself.
 */
const errorsByCode: Scenario = async (t, h) => {
  const ref = `egtk-nosuch-${randomBytes(4).toString('hex')}`;
  const options = { follow: false, stdout: true, stderr: true };
  const failure = await h.engine.logs.open({ ref }, options, new AbortController().signal).then(
    () => undefined,
    (err: unknown) => err,
  );
  t.ok(
    isEngineGateError(failure),
    "open() of an unknown container rejects with a plugin-api error: branded, with a code of the list (any copy's)",
  );
  const code = (failure as { code?: string } | undefined)?.code;
  t.equal(code, 'CONTAINER_NOT_FOUND', 'its code is CONTAINER_NOT_FOUND');
  t.equal(
    (failure as { statusCode?: number } | undefined)?.statusCode,
    ERROR_CODES.CONTAINER_NOT_FOUND,
    'its status is 404',
  );
};

export const refusalScenarios: Record<string, Scenario> = {
  'not-found-404': notFound,
  'ambiguous-409': ambiguous,
  'bad-ref-400': badRef,
  'bad-params-400': badParams,
  'errors-by-code': errorsByCode,
  'stopped-503': stopped503,
};
