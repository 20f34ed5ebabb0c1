// abort-releases: an engine stream is let go at once when its reader goes — abort(), return(),
// a WebSocket client closing, an HTTP client leaving.
import type { Test } from 'tap';
import { eventually, numberedLines, sleep, type SuiteHarness } from '../suite-harness.js';
import type { Scenario } from './scenario.js';

/** How soon an engine stream must be let go once its client has gone. */
const RELEASE_WITHIN_MS = 2_000;

async function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ state: 'value'; value: T } | { state: 'rejected'; error: unknown } | { state: 'timeout' }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ state: 'timeout' }>(
    (resolve) => (timer = setTimeout(() => resolve({ state: 'timeout' }), ms)),
  );
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ state: 'value' as const, value }),
        (error: unknown) => ({ state: 'rejected' as const, error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

type ReleaseCheck = (label: string) => Promise<void>;

/** Checks, when the target can count them, that the engine is back to the streams it held at first. */
async function releaseCheck(t: Test, h: SuiteHarness): Promise<ReleaseCheck> {
  const countOpen = async () => (h.target.countOpenStreams ? await h.target.countOpenStreams(h.engine) : 0);
  const baseline = await countOpen();
  let leaked = false;
  const backToBaseline = async (label: string) => {
    if (!h.target.countOpenStreams) return;
    // Once a stream has leaked the count cannot come back: later checks need not wait for it.
    const ok = await eventually(async () => (await countOpen()) === baseline, leaked ? 0 : RELEASE_WITHIN_MS);
    leaked ||= !ok;
    t.ok(ok, `${label}: the engine holds no stream any more (countOpenStreams ${await countOpen()}, was ${baseline})`);
  };
  return backToBaseline;
}

/** The plugin on its own: abort() and return() release its stream; false when no line came. */
async function pluginReleases(t: Test, h: SuiteHarness, ref: string, backToBaseline: ReleaseCheck): Promise<boolean> {
  // The plugin on its own: aborting the signal ends a pull that waits for lines.
  const abort = new AbortController();
  const source = await h.engine.logs.open({ ref }, { follow: true, stdout: true, stderr: true }, abort.signal);
  const iterator = source[Symbol.asyncIterator]();
  let lines = 0;
  while (lines < 2) {
    const pulled = await settleWithin(iterator.next(), 10_000);
    if (pulled.state !== 'value' || pulled.value.done) {
      t.fail(`open(): the 2 lines written did not arrive (${pulled.state})`);
      return false;
    }
    lines += pulled.value.value.filter((record) => record.type === 'line').length;
  }
  const waiting = iterator.next();
  await sleep(50);
  abort.abort();
  const ended = await settleWithin(waiting, RELEASE_WITHIN_MS);
  t.not(ended.state, 'timeout', 'open(): aborting the signal ends a pending pull at once');
  if (ended.state === 'value' && !ended.value.done) {
    t.ok(
      (await settleWithin(iterator.next(), RELEASE_WITHIN_MS)).state !== 'timeout',
      'open(): the pull after an abort ends',
    );
  }
  await backToBaseline('after abort()');

  // return() on the iterator releases too (for await ... break does that).
  const second = await h.engine.logs.open(
    { ref },
    { follow: true, stdout: true, stderr: true },
    new AbortController().signal,
  );
  const secondIterator = second[Symbol.asyncIterator]();
  await settleWithin(secondIterator.next(), 5_000);
  if (secondIterator.return) {
    t.not(
      (await settleWithin(secondIterator.return(), RELEASE_WITHIN_MS)).state,
      'timeout',
      'open(): return() on the iterator settles at once',
    );
  } else {
    t.fail('open(): the iterator has no return(), so `for await ... break` cannot release it');
  }
  await backToBaseline('after return()');
  return true;
}

/** Through the gateway: a WebSocket client closing, and an HTTP client going away. */
async function gatewayReleases(t: Test, h: SuiteHarness, ref: string, backToBaseline: ReleaseCheck): Promise<void> {
  const activeBefore = h.probe.active.length;
  const socket = await h.client.openSocket(ref, { follow: true }, 'json');
  await socket.waitFor((messages) => messages.length >= 2, '2 lines');
  // Settles to one: a gateway may read the history with a short read of its own first.
  t.ok(
    await eventually(() => h.probe.active.length === activeBefore + 1, RELEASE_WITHIN_MS),
    `a followed WebSocket holds one engine stream (${h.probe.active.length - activeBefore})`,
  );
  socket.close();
  t.ok(
    await eventually(() => h.probe.active.length === activeBefore, RELEASE_WITHIN_MS),
    'WebSocket client closed: the gateway releases the engine stream',
  );
  await backToBaseline('WebSocket client closed');

  const http = new AbortController();
  const response = await h.client.fetchLogs(ref, { follow: true }, {}, http.signal);
  const reader = response.body!.getReader();
  await settleWithin(reader.read(), 5_000);
  // Settles to one: a gateway may read the history with a short read of its own first.
  t.ok(
    await eventually(() => h.probe.active.length === activeBefore + 1, RELEASE_WITHIN_MS),
    `a followed HTTP body holds one engine stream (${h.probe.active.length - activeBefore})`,
  );
  http.abort();
  await reader.cancel().catch(() => {});
  t.ok(
    await eventually(() => h.probe.active.length === activeBefore, RELEASE_WITHIN_MS),
    'HTTP client gone: the gateway releases the engine stream',
  );
  await backToBaseline('HTTP client gone');

  for (let i = 0; i < 5; i++) {
    const quick = await h.client.openSocket(ref, { follow: true }, 'raw');
    await quick.waitFor((messages) => messages.length >= 1, 'a message');
    quick.close();
    await quick.waitClosed();
  }
  t.ok(
    await eventually(() => h.probe.active.length === activeBefore, RELEASE_WITHIN_MS),
    '5 quick open/close cycles leave no engine stream behind',
  );
  await backToBaseline('5 open/close cycles');
}

export const abortReleases: Scenario = async (t, h) => {
  const { ref } = await h.createContainer(t, numberedLines('abort', 2), {}); // keeps running, silent after 2 lines
  const backToBaseline = await releaseCheck(t, h);
  if (!(await pluginReleases(t, h, ref, backToBaseline))) return;
  await gatewayReleases(t, h, ref, backToBaseline);
};
