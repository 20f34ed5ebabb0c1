// The viewer on a real Podman: a private `podman system service` (test-harness, stopped by its
// PID) behind a gateway. In Chromium the page lists podman's containers with their state, a
// container started while it is open appears (the engine's own events), and following a ticker
// shows its lines as they are written, its stderr lines marked.
import t from 'tap';
import type { Browser } from 'playwright-core';
import podmanPlugin from '@enginegate/plugin-podman';
import { podmanForTest, runBusybox, type PrivatePodman } from '@enginegate/test-harness/podman';
import { withChromium } from './fixtures/chromium.js';
import { expectListed, gatewayForViewer, viewerWithToken } from './fixtures/viewer-gateway.js';
import { follow, renderedRows, tickerScript, tickerStream, waitForRow } from './fixtures/viewer-page.js';

t.setTimeout(240_000);

const TOKEN = 'viewer-podman-token';
const TICKER = 'view-podman-ticker';
const IDLE = 'view-podman-idle';
const LATE = 'view-podman-late';
/** A container started while the page is open must be listed within this long. */
const LIST_BOUND_MS = 3000;

const podman = await podmanForTest(t);
if (podman) await withChromium(t, (browser) => suite(browser, podman));

/** The highest tick number among the rendered rows. */
async function lastTick(page: Parameters<typeof renderedRows>[0]): Promise<number> {
  const ticks = (await renderedRows(page))
    .filter((row) => row.kind === 'line' && /^podman tick \d+$/.test(row.text))
    .map((row) => Number(row.text.split(' ').at(-1)));
  return Math.max(-1, ...ticks);
}

async function suite(browser: Browser, podman: PrivatePodman): Promise<void> {
  const url = await gatewayForViewer(t, TOKEN, {
    plugins: [podmanPlugin],
    engine: 'podman',
    pluginConfig: { podman: { podmanSocket: podman.socket } },
  });
  await runBusybox(podman, tickerScript('podman'), { name: TICKER });
  await runBusybox(podman, 'sleep 600', { name: IDLE });

  const viewer = await viewerWithToken(t, browser, url, TOKEN);
  const { page } = viewer;

  await t.test('podman: the containers are listed with their state; one started later appears', async (t) => {
    await expectListed(t, viewer, 'podman', TICKER, IDLE);
    await runBusybox(podman, 'sleep 600', { name: LATE });
    const ranAt = performance.now();
    await page.getByRole('listitem', { name: LATE }).waitFor({ timeout: LIST_BOUND_MS });
    t.pass(`a container started while the page is open is listed (${Math.round(performance.now() - ranAt)} ms)`);
  });

  await t.test('following the ticker: lines appear while watching, stderr lines marked', async (t) => {
    await follow(page, TICKER);
    await waitForRow(page, 'a podman line', (row) => /^podman tick \d+$/.test(row.text), 20_000);
    const first = await lastTick(page);
    // The ticker writes 10 lines a second: 2 s later, the page shows ~20 more.
    await page.waitForTimeout(2000);
    const later = await lastTick(page);
    t.ok(later >= first + 10, `lines keep appearing while watched (tick ${first}, 2 s later tick ${later})`);
    const rows = (await renderedRows(page)).filter((row) => row.kind === 'line' && / tick \d+$/.test(row.text));
    t.ok(
      rows.some((row) => row.stream === 'stderr'),
      'some lines are marked stderr',
    );
    t.same(
      rows.filter((row) => row.stream !== tickerStream(row.text)).map((row) => row.text),
      [],
      'the stderr lines are marked stderr, the others stdout',
    );
    t.same(viewer.pageErrors, [], 'no uncaught error in the page');
    t.same(viewer.cspViolations, [], 'no CSP violation');
  });
}
