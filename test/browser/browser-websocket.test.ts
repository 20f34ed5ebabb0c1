// A real browser (Debian's headless Chromium, driven by playwright-core) opens the logs
// WebSocket the way a web UI would: the token as a subprotocol beside a framing subprotocol.
// It must see the lines of a running container one message per line while the container
// still writes, stderr marked in the JSON framing, the exit record at the end — on the mock
// engine and on a real Podman (a private `podman system service`) — and a page from an origin
// outside the allow-list must be refused before the upgrade.
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { AUTH_SUBPROTOCOL_PREFIX, createGateway, type Gateway } from '@enginegate/gateway';
import { parseRfc3339, NS_PER_MS } from '@enginegate/plugin-api';
import mockPlugin, { type MockEngine } from '@enginegate/plugin-mock';
import podmanPlugin from '@enginegate/plugin-podman';
import { podmanForTest, runBusybox, type PrivatePodman } from '@enginegate/test-harness/podman';
import { closeServer, startPageServer, withChromium } from './fixtures/chromium.js';

const TOKEN = 'browser-test-token/with+chars=that-need-encoding';
const LINE_COUNT = 30;
const INTERVAL_MS = 100;

/** Every third line on stderr, so both streams appear and the pattern is checkable per index. */
function streamOf(i: number): 'stdout' | 'stderr' {
  return i % 3 === 0 ? 'stderr' : 'stdout';
}

/**
 * The page the browser loads. It opens sockets on request and records what arrives, with the
 * arrival time, into `window.streams[key]` for the test to read.
 */
const PAGE_HTML = `<!doctype html>
<meta charset="utf-8">
<title>enginegate browser test</title>
<script>
  window.streams = {};
  window.openLogStream = (key, url, protocols) => {
    const s = { opened: false, protocol: null, messages: [], errored: false, closed: null };
    window.streams[key] = s;
    const ws = new WebSocket(url, protocols);
    ws.onopen = () => { s.opened = true; s.protocol = ws.protocol; };
    ws.onmessage = (e) => s.messages.push({
      at: performance.now(),
      wallMs: performance.timeOrigin + performance.now(),
      isText: typeof e.data === 'string',
      data: typeof e.data === 'string' ? e.data : null,
    });
    ws.onerror = () => { s.errored = true; };
    ws.onclose = (e) => { s.closed = { code: e.code, reason: e.reason, wasClean: e.wasClean }; };
  };
</script>
<p>enginegate browser test page</p>
`;

interface RecordedMessage {
  at: number;
  wallMs: number;
  isText: boolean;
  data: string | null;
}

interface RecordedStream {
  opened: boolean;
  protocol: string | null;
  messages: RecordedMessage[];
  errored: boolean;
  closed: { code: number; reason: string; wasClean: boolean } | null;
}

await withChromium(t, runBrowserTests);

async function runBrowserTests(browser: Browser): Promise<void> {
  const allowedPage = await startPageServer(PAGE_HTML);
  t.teardown(() => closeServer(allowedPage.server));
  const foreignPage = await startPageServer(PAGE_HTML);
  t.teardown(() => closeServer(foreignPage.server));

  const gw: Gateway = await createGateway({
    port: 0,
    token: TOKEN,
    engine: 'mock',
    builtinPlugins: [mockPlugin],
    logger: false,
    allowedOrigins: [allowedPage.origin],
  });
  t.teardown(() => gw.close());
  const gatewayUrl = await gw.listen();
  const wsBase = gatewayUrl.replace(/^http:/, 'ws:');
  const mock = gw.engines.snapshot().engine as MockEngine;

  const authProtocol = AUTH_SUBPROTOCOL_PREFIX + Buffer.from(TOKEN, 'utf8').toString('base64url');

  /** The mock engine's container: running when the browser connects, writing for ~3 s, then exit 0. */
  function addRunningContainer(name: string): void {
    mock.addContainer({
      name,
      lineCount: LINE_COUNT,
      intervalMs: INTERVAL_MS,
      lineAt: (i) => ({ stream: streamOf(i), bytes: Buffer.from(`line ${i}`) }),
      exitCode: 0,
    });
  }

  const targets: BrowserTarget[] = [
    {
      engine: 'mock',
      wsBase,
      addRunningContainer: (name) => Promise.resolve(addRunningContainer(name)),
      lastLineWrittenMs: (_name, lastLineTime) =>
        Promise.resolve(Number(parseRfc3339(lastLineTime) ?? 0n) / Number(NS_PER_MS)),
    },
  ];
  const podman = await podmanForTest(t);
  if (podman) targets.push(await podmanTarget(podman, allowedPage.origin));

  async function openPage(origin: string): Promise<Page> {
    const page = await browser.newPage();
    t.teardown(() => page.close());
    await page.goto(`${origin}/`);
    return page;
  }

  function openLogStream(
    page: Page,
    key: string,
    container: string,
    protocols: string[],
    base = wsBase,
  ): Promise<void> {
    const url = `${base}/passthrough/engine/logs/${container}`;
    return page.evaluate(
      ([k, u, p]) =>
        (globalThis as unknown as { openLogStream(k: string, u: string, p: string[]): void }).openLogStream(k, u, p),
      [key, url, protocols] as [string, string, string[]],
    );
  }

  async function waitForClose(page: Page, key: string, timeoutMs = 15_000): Promise<RecordedStream> {
    await page.waitForFunction(`window.streams[${JSON.stringify(key)}]?.closed != null`, undefined, {
      timeout: timeoutMs,
    });
    return await page.evaluate<RecordedStream>(`window.streams[${JSON.stringify(key)}]`);
  }

  for (const target of targets)
    t.test(`${target.engine}: an allowed page follows a running container: JSON and text framings, live`, async (t) => {
      const page = await openPage(allowedPage.origin);
      await Promise.all([target.addRunningContainer('browser-json'), target.addRunningContainer('browser-text')]);
      // Both sockets at once: the two containers run side by side, so the test takes ~3 s, not ~6.
      await openLogStream(page, 'json', 'browser-json', ['v1.json.enginegate', authProtocol], target.wsBase);
      await openLogStream(page, 'text', 'browser-text', ['v1.text.enginegate', authProtocol], target.wsBase);
      const [json, text] = await Promise.all([waitForClose(page, 'json'), waitForClose(page, 'text')]);
      const lastLineWrittenMs = await target.lastLineWrittenMs(
        'browser-json',
        String(
          (json.messages
            .map((m) => JSON.parse(m.data ?? 'null') as Record<string, unknown>)
            .filter((r) => r.type === 'line')
            .at(-1)?.time as string | undefined) ?? '',
        ),
      );

      t.test('JSON framing', async (t) => {
        t.equal(json.opened, true, 'the socket opened');
        t.equal(json.protocol, 'v1.json.enginegate', 'the server selected the JSON framing subprotocol');
        t.equal(json.errored, false, 'no error event');
        t.same(json.closed, { code: 1000, reason: json.closed?.reason ?? '', wasClean: true }, 'closed 1000, cleanly');
        t.ok(
          json.messages.every((m) => m.isText),
          'every message is a text message',
        );

        const records = json.messages.map((m) => JSON.parse(m.data ?? 'null') as Record<string, unknown>);
        t.ok(
          json.messages.every((m) => !(m.data ?? '').includes('\n')),
          'no message holds a newline (one JSON object each, not NDJSON)',
        );
        const lines = records.filter((r) => r.type === 'line');
        t.equal(lines.length, LINE_COUNT, `all ${LINE_COUNT} lines arrived, one message each`);
        t.same(
          lines.map((r) => r.line),
          Array.from({ length: LINE_COUNT }, (_, i) => `line ${i}`),
          'each line message carries exactly one line, in order',
        );
        t.same(
          lines.map((r) => r.stream),
          Array.from({ length: LINE_COUNT }, (_, i) => streamOf(i)),
          'stderr lines are marked "stream":"stderr", the others "stdout"',
        );
        t.ok(
          lines.every((r) => typeof r.time === 'string' && typeof r.cursor === 'string'),
          'every line record has a time and a cursor',
        );
        t.same(records.at(-1), { type: 'exit', exitCode: 0 }, 'the stream ends with the exit record');
        t.equal(records.length, LINE_COUNT + 1, 'nothing but the lines and the exit record');

        // Live delivery: a good share of the messages must have reached the page before the last
        // line was written, not in one burst at the end.
        const arrivedEarly = json.messages.filter((m) => m.wallMs < lastLineWrittenMs - 500).length;
        t.ok(
          arrivedEarly >= 10,
          `at least 10 messages arrived over 0.5 s before the container wrote its last line (got ${arrivedEarly})`,
        );
        const lineArrivals = json.messages.slice(0, LINE_COUNT).map((m) => m.at);
        const spreadMs = lineArrivals[lineArrivals.length - 1]! - lineArrivals[0]!;
        t.ok(
          spreadMs >= 1500,
          `line arrivals are spread over time as the lines are written (${spreadMs.toFixed(0)} ms)`,
        );
      });

      t.test('text framing', async (t) => {
        t.equal(text.opened, true, 'the socket opened');
        t.equal(text.protocol, 'v1.text.enginegate', 'the server selected the text framing subprotocol');
        t.same(text.closed?.code, 1000, 'closed 1000 after the last line');
        t.ok(
          text.messages.every((m) => m.isText),
          'every message is a text message',
        );
        t.same(
          text.messages.map((m) => m.data),
          Array.from({ length: LINE_COUNT }, (_, i) => `line ${i}`),
          'exactly one line per message, without its newline, stdout and stderr merged in order',
        );
        const spreadMs = text.messages[text.messages.length - 1]!.at - text.messages[0]!.at;
        t.ok(spreadMs >= 1500, `messages arrived while the container ran (${spreadMs.toFixed(0)} ms spread)`);
      });
    });

  /**
   * Opens a socket that the gateway must refuse; returns what the page saw and the reason
   * Chromium gave for the failed handshake (the page itself only ever sees close code 1006).
   */
  async function openRefusedStream(page: Page, key: string, container: string, protocols: string[]) {
    const handshakeError = page
      .waitForEvent('websocket', { timeout: 10_000 })
      .then((ws) => ws.waitForEvent('socketerror', { timeout: 10_000 }));
    await openLogStream(page, key, container, protocols);
    const [stream, error] = await Promise.all([waitForClose(page, key), handshakeError]);
    return { stream, error };
  }

  t.test('a page from another origin is refused before the upgrade', async (t) => {
    addRunningContainer('browser-foreign');
    const page = await openPage(foreignPage.origin);
    const { stream, error } = await openRefusedStream(page, 'foreign', 'browser-foreign', [
      'v1.json.enginegate',
      authProtocol,
    ]);
    t.equal(stream.opened, false, 'the socket never opened');
    t.equal(stream.errored, true, 'the page saw an error event');
    t.equal(stream.closed?.code, 1006, 'closed abnormally (1006), as browsers report a refused handshake');
    t.equal(stream.messages.length, 0, 'no log line reached the foreign page');
    t.match(error, /Unexpected response code: 403/, `the handshake was answered 403 (${error})`);
  });

  t.test('an allowed page with a wrong token is refused', async (t) => {
    addRunningContainer('browser-wrong-token');
    const page = await openPage(allowedPage.origin);
    const wrongAuth = AUTH_SUBPROTOCOL_PREFIX + Buffer.from('not-the-token').toString('base64url');
    const { stream, error } = await openRefusedStream(page, 'wrong', 'browser-wrong-token', [
      'v1.json.enginegate',
      wrongAuth,
    ]);
    t.equal(stream.opened, false, 'the socket never opened');
    t.equal(stream.messages.length, 0, 'no log line reached the page');
    // Chromium words a 401 handshake answer this way rather than quoting the status.
    t.match(error, /HTTP Authentication failed/, `the handshake was answered 401 (${error})`);
  });
}

/** An engine the browser follows a running container on. */
interface BrowserTarget {
  engine: string;
  /** The `ws://` base of a gateway serving it. */
  wsBase: string;
  /** Starts a container that is running when the browser connects: LINE_COUNT lines, INTERVAL_MS apart, then exit 0. */
  addRunningContainer(name: string): Promise<void>;
  /** When the container wrote its last line (ms since the epoch), given that line's record time. */
  lastLineWrittenMs(name: string, lastLineTime: string): Promise<number>;
}

/**
 * A gateway on the private Podman (same token and allowed origin as the mock one). Podman's log
 * times have whole seconds only, so the last line's moment is the container's exit time, which
 * Podman keeps with nanoseconds.
 */
async function podmanTarget(podman: PrivatePodman, allowedOrigin: string): Promise<BrowserTarget> {
  const gw = await createGateway({
    port: 0,
    token: TOKEN,
    plugins: [podmanPlugin],
    engine: 'podman',
    pluginConfig: { podman: { podmanSocket: podman.socket } },
    logger: false,
    allowedOrigins: [allowedOrigin],
  });
  t.teardown(() => gw.close());
  const url = await gw.listen();
  const script =
    `i=0; while [ $i -lt ${LINE_COUNT} ]; do ` +
    'if [ $((i % 3)) -eq 0 ]; then echo "line $i" >&2; else echo "line $i"; fi; ' +
    `i=$((i+1)); sleep ${INTERVAL_MS / 1000}; done; exit 0`;
  return {
    engine: 'podman',
    wsBase: url.replace(/^http:/, 'ws:'),
    addRunningContainer: async (name) => {
      await runBusybox(podman, script, { name });
    },
    lastLineWrittenMs: async (name) => {
      const [inspect] = JSON.parse(await podman.podman(['inspect', name])) as Array<{ State: { FinishedAt: string } }>;
      return Number(parseRfc3339(inspect?.State.FinishedAt ?? '') ?? 0n) / Number(NS_PER_MS);
    },
  };
}
