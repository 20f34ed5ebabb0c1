// The viewer on real engines: a private dockerd and a private containerd (test-harness, stopped
// by their PIDs), each with a container called `view-ticker`, behind one gateway. In Chromium the
// page lists moby's containers, renders a TTY container's colours, follows the ticker with its
// stderr lines marked — and when the engine is switched to containerd while it watches, it shows
// a reconnect marker and goes on with containerd's lines, resumed after the last line it had
// (after=<cursor>, a time): no line repeated, the times never going backwards.
import t from 'tap';
import type { Browser } from 'playwright-core';
import containerdPlugin from '@enginegate/plugin-containerd';
import mobyPlugin from '@enginegate/plugin-moby';
import { containerdForTest, runNerdctlStyleTask, type PrivateContainerd } from '@enginegate/test-harness/containerd';
import { dockerdForTest, runBusybox, type PrivateDockerd } from '@enginegate/test-harness/dockerd';
import { withChromium } from './fixtures/chromium.js';
import { expectListed, gatewayForViewer, viewerWithToken } from './fixtures/viewer-gateway.js';
import { downloadLog, follow, renderedRows, tickerScript, tickerStream, waitForRow } from './fixtures/viewer-page.js';

t.setTimeout(240_000);

const TOKEN = 'viewer-engines-token';
const SHARED_NAME = 'view-ticker';
const COLOURS_NAME = 'view-colours';

const COLOURS_SCRIPT = `i=0; while true; do printf '\\033[32mgreen\\033[0m plain \\033[1;31mred bold\\033[0m %s\\n' $i; i=$((i+1)); sleep 0.5; done`;

const [dockerd, cd] = await Promise.all([dockerdForTest(t), containerdForTest(t)]);
if (dockerd && cd) await withChromium(t, (browser) => suite(browser, dockerd, cd));

async function suite(browser: Browser, dockerd: PrivateDockerd, cd: PrivateContainerd): Promise<void> {
  const url = await gatewayForViewer(t, TOKEN, {
    plugins: [mobyPlugin, containerdPlugin],
    engine: 'moby',
    pluginConfig: {
      moby: { dockerSocket: dockerd.socket },
      containerd: { address: cd.address, logRoots: [cd.logDir], pollIntervalMs: 100 },
    },
    healthIntervalMs: 500,
  });
  await Promise.all([
    runBusybox(dockerd, tickerScript('moby'), { name: SHARED_NAME }),
    runBusybox(dockerd, COLOURS_SCRIPT, { name: COLOURS_NAME, tty: true }),
    runNerdctlStyleTask(cd, SHARED_NAME, tickerScript('containerd')),
  ]);

  const viewer = await viewerWithToken(t, browser, url, TOKEN);
  const { page } = viewer;

  await t.test('moby: the containers are listed; a TTY’s colours render', async (t) => {
    await expectListed(t, viewer, 'moby', SHARED_NAME, COLOURS_NAME);
    await follow(page, COLOURS_NAME);
    await waitForRow(page, 'a coloured line', (row) => row.text.startsWith('green plain red bold'), 20_000);
    const colours = await page.evaluate(() => {
      const g = globalThis as any;
      const colourOf = (text: string) => {
        const span = [...g.document.querySelectorAll('[role="log"] .text span')].find(
          (s: any) => s.textContent === text,
        );
        return span ? { color: g.getComputedStyle(span).color, weight: g.getComputedStyle(span).fontWeight } : null;
      };
      return { green: colourOf('green'), red: colourOf('red bold') };
    });
    t.ok(
      colours.green && colours.red && colours.green.color !== colours.red.color,
      `two colours (${JSON.stringify(colours)})`,
    );
    t.equal(colours.red?.weight, '700', 'bold is bold');
    t.notOk(((await page.getByRole('log').textContent()) ?? '').includes('\x1b'), 'no escape character shown');
  });

  await t.test(
    'an engine switch while watching: a reconnect marker, then containerd’s lines, none repeated',
    async (t) => {
      await follow(page, SHARED_NAME);
      await waitForRow(page, 'a moby line', (row) => /^moby tick \d+$/.test(row.text), 20_000);
      const rows = (await renderedRows(page)).filter((row) => row.kind === 'line');
      t.ok(
        rows.every((row) => row.stream === tickerStream(row.text)),
        'moby’s stderr lines are marked stderr, the others stdout',
      );
      await page.waitForTimeout(1000);

      const put = await fetch(`${url}/engine`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'containerd' }),
      });
      t.equal(put.status, 200, 'PUT /engine containerd');
      const marker = await waitForRow(page, 'the reconnect marker', (row) => row.marker === 'reconnect', 20_000);
      t.equal(
        marker.text,
        'reconnected: the engine was switched; resumed right after the last line',
        'the marker says why',
      );
      await waitForRow(
        page,
        'a containerd line',
        (row) => /^containerd tick \d+$/.test(row.text) && row.top > marker.top,
        20_000,
      );
      t.pass('containerd’s lines follow the marker');
      await page.getByText('logs: live').waitFor({ timeout: 10_000 });
      await page.locator('.engine', { hasText: 'containerd' }).waitFor({ timeout: 10_000 });
      t.pass('the top bar names containerd');
      await page.getByRole('listitem', { name: COLOURS_NAME }).waitFor({ state: 'detached', timeout: 20_000 });
      t.pass('the list is containerd’s now (moby’s other container is gone)');
      await page.waitForTimeout(1000);

      await page.getByLabel('Timestamps').check();
      const { text } = await downloadLog(page);
      const lines = text
        .trimEnd()
        .split('\n')
        .filter((line) => / tick \d+$/.test(line))
        .map((line) => ({ time: line.slice(0, line.indexOf(' ')), text: line.slice(line.indexOf(' ') + 1) }));
      const engines = lines.map((line) => line.text.split(' ')[0]).filter((e, i, all) => i === 0 || e !== all[i - 1]);
      t.same(engines, ['moby', 'containerd'], `moby’s lines, then containerd’s (${lines.length} lines)`);
      const seen = new Set<string>();
      t.same(
        lines.filter((line) => seen.size === seen.add(line.text).size).map((line) => line.text),
        [],
        'no line shown twice',
      );
      const backwards = lines.findIndex((line, i) => i > 0 && line.time < lines[i - 1]!.time);
      t.equal(backwards, -1, 'the times never go backwards across the switch');
      const gaps = lines.filter((line, i) => {
        const previous = lines[i - 1];
        if (previous === undefined || previous.text.split(' ')[0] !== line.text.split(' ')[0]) return false;
        return Number(line.text.split(' ').at(-1)) !== Number(previous.text.split(' ').at(-1)) + 1;
      });
      t.same(
        gaps.map((line) => line.text),
        [],
        'within each engine’s stretch no line is skipped',
      );
      t.same(viewer.pageErrors, [], 'no uncaught error in the page');
      t.same(viewer.cspViolations, [], 'no CSP violation');
    },
  );
}
