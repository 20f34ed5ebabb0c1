// The log viewer (GET /) as a user meets it: `enginegate serve --engine mock` (the real CLI, in a
// child process) prints a link; Debian's Chromium opens it. The page must list the mock
// containers, follow one live with stderr marked, merge several, filter and highlight, render
// ANSI colours, pause and resume the autoscroll, show timestamps, download what it shows, be
// usable from the keyboard, say clearly when the token is missing or wrong — and another origin
// must not read logs, while the token appears in no request URL and not in the gateway's log.
// Screenshots of the main views go to docs/ (the README shows them).
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { closeServer, startPageServer, withChromium } from './fixtures/chromium.js';
import { startServe, type ServeProcess } from './fixtures/serve-process.js';
import {
  closeViewer,
  downloadLog,
  findRowFromTop,
  follow,
  logPane,
  openViewer,
  renderedRows,
  saveScreenshot,
  select,
  waitForRow,
  type ViewerPage,
} from './fixtures/viewer-page.js';

t.setTimeout(180_000);

const MOCK_CONTAINERS = ['mock-bytes', 'mock-chatty', 'mock-exit', 'mock-tty'];

const chattyNumber = (text: string) => Number(/^chatty line (\d+) /.exec(text)?.[1] ?? NaN);

/** Computed style of the first element matching `selector` whose text is `text`, in the log pane. */
async function styleOf(page: Page, selector: string, text: string): Promise<Record<string, string> | null> {
  return page.evaluate(
    ([sel, want]) => {
      const g = globalThis as any;
      for (const element of g.document.querySelectorAll(`[role="log"] ${sel}`)) {
        if (element.textContent !== want) continue;
        const style = g.getComputedStyle(element);
        return { color: style.color, fontWeight: style.fontWeight, borderLeftColor: style.borderLeftColor };
      }
      return null;
    },
    [selector, text] as [string, string],
  );
}

/** The value of a CSS custom property of the page, resolved to rgb() by the browser. */
async function themeColour(page: Page, property: string): Promise<string> {
  return page.evaluate((name) => {
    const g = globalThis as any;
    const probe = g.document.createElement('span');
    probe.style.color = `var(${name})`;
    g.document.body.append(probe);
    const colour = g.getComputedStyle(probe).color;
    probe.remove();
    return colour;
  }, property);
}

await withChromium(t, suite);

async function suite(browser: Browser): Promise<void> {
  const serve: ServeProcess = await startServe(['--engine', 'mock', '--log-level', 'debug']);
  t.teardown(() => serve.stop());
  const viewers: ViewerPage[] = [];
  const open = async (url: string, options: Parameters<typeof openViewer>[2] = {}) => {
    const viewer = await openViewer(browser, url, options);
    viewers.push(viewer);
    t.teardown(() => closeViewer(viewer));
    return viewer;
  };

  const main = await open(serve.link);
  const { page } = main;

  await t.test(
    'the printed link: the page loads, the token leaves the address bar, the containers are listed',
    async (t) => {
      t.match(serve.link, /^http:\/\/127\.0\.0\.1:\d+\/#token=/, `serve printed ${serve.link.replace(/=.*/, '=…')}`);
      await page.getByRole('listitem', { name: 'mock-chatty' }).waitFor({ timeout: 15_000 });
      t.equal(page.url(), `${serve.url}/`, 'the token is gone from the address bar');
      t.equal(
        await page.evaluate(() => (globalThis as any).sessionStorage.getItem('enginegate.token')),
        serve.token,
        'it is kept in sessionStorage',
      );
      for (const name of MOCK_CONTAINERS) {
        const item = page.getByRole('listitem', { name, exact: true });
        t.equal(await item.count(), 1, `${name} is listed`);
        t.match(
          await item.textContent(),
          new RegExp(`${name}enginegate/${name}:latest(running|exited)`),
          `${name}: name, image, state`,
        );
      }
      // mock-exit exits 950 ms after the engine starts; the list shows it when the change reaches it.
      const exitState = page.getByRole('listitem', { name: 'mock-exit' }).locator('.state');
      await exitState.filter({ hasText: 'exited' }).waitFor({ timeout: 15_000 });
      t.match(await exitState.textContent(), 'exited', 'mock-exit is exited');
      t.match(await page.locator('.engine').textContent(), /engine\s*mock\s*running/, 'the engine and its state');
    },
  );

  await t.test('follows mock-chatty live; stderr lines are marked', async (t) => {
    await follow(page, 'mock-chatty');
    await waitForRow(page, 'a chatty line', (row) => row.text.startsWith('chatty line '));
    const first = Math.max(...(await renderedRows(page)).map((row) => chattyNumber(row.text)).filter(Number.isFinite));
    const later = await waitForRow(
      page,
      'a line written while watching',
      (row) => chattyNumber(row.text) >= first + 10,
      10_000,
    );
    t.ok(
      chattyNumber(later.text) >= first + 10,
      `new lines appear while watching (${first} → ${chattyNumber(later.text)})`,
    );
    const rows = (await renderedRows(page)).filter((row) => row.kind === 'line');
    t.ok(rows.length > 20, `${rows.length} rows drawn`);
    t.same(
      rows.filter((row) => row.stream !== (row.text.endsWith('stderr') ? 'stderr' : 'stdout')).map((row) => row.text),
      [],
      'every stderr line, and only those, is marked stderr',
    );
    // The rows nearest the end: those at the top of the drawn window leave the DOM as lines arrive.
    const err = [...rows].reverse().find((row) => row.stream === 'stderr')!;
    const out = [...rows].reverse().find((row) => row.stream === 'stdout')!;
    const errStyle = await styleOf(page, '.row', `${err.text}`);
    t.not(errStyle, null);
    const rowStyles = await page.evaluate(() => {
      const g = globalThis as any;
      const style = (stream: string) =>
        g.getComputedStyle(g.document.querySelector(`[role="log"] .row[data-stream="${stream}"]`));
      return { stderr: style('stderr').borderLeftColor, stdout: style('stdout').borderLeftColor };
    });
    t.not(
      rowStyles.stderr,
      rowStyles.stdout,
      `a stderr row has a visible mark (${rowStyles.stderr}; ${out.text}: ${rowStyles.stdout})`,
    );
    t.match(await page.getByText('logs: live').count(), 1, 'the connection state is shown');
    await saveScreenshot(page, 'viewer');
  });

  await t.test('scrolling up pauses the autoscroll; "Jump to end" resumes it', async (t) => {
    const pane = logPane(page);
    await pane.hover();
    await page.mouse.wheel(0, -600);
    const jump = page.getByRole('button', { name: /^↓ Jump to end/ });
    await jump.waitFor({ timeout: 5000 });
    const top = await pane.evaluate((element: any) => element.scrollTop);
    await page.waitForTimeout(1500);
    t.equal(await pane.evaluate((element: any) => element.scrollTop), top, 'the view stays put while lines arrive');
    t.match(await jump.textContent(), /\(\d+ new\)/, `the button counts what arrived: ${await jump.textContent()}`);
    await jump.click();
    await page.waitForTimeout(300);
    const atEnd = await pane.evaluate(
      (element: any) => element.scrollTop + element.clientHeight >= element.scrollHeight - 2,
    );
    t.ok(atEnd, 'back at the end');
    t.equal(await jump.count(), 0, 'the button is gone');
    const before = Math.max(...(await renderedRows(page)).map((row) => chattyNumber(row.text)).filter(Number.isFinite));
    await waitForRow(page, 'a new line at the end', (row) => chattyNumber(row.text) > before + 3, 10_000);
    t.ok(
      await pane.evaluate((element: any) => element.scrollTop + element.clientHeight >= element.scrollHeight - 2),
      'following again: new lines keep the view at the end',
    );
  });

  await t.test('a scroll up is kept when the page re-renders before the scroll event comes', async (t) => {
    const pane = logPane(page);
    // Scrolled to the top and, in the same task, something else re-rendered the pane (here the
    // timestamps box): the scroll event comes only with the next frame, after that render.
    await page.evaluate(() => {
      const g = globalThis as any;
      const element = g.document.querySelector('[role="log"]');
      element.scrollTop = 0;
      g.document.querySelector('label.toggle input[type="checkbox"]').click();
    });
    const jump = page.getByRole('button', { name: /^↓ Jump to end/ });
    await jump.waitFor({ timeout: 5000 });
    t.equal(await pane.evaluate((element: any) => element.scrollTop), 0, 'the view stays at the top');
    await page.getByLabel('Timestamps').uncheck();
    await jump.click();
    t.ok(
      await pane.evaluate((element: any) => element.scrollTop + element.clientHeight >= element.scrollHeight - 2),
      'back at the end',
    );
  });

  await t.test(
    'Filter: narrows to matching lines and highlights; /regex/ too; clearing restores every line',
    async (t) => {
      const filter = page.getByLabel('Filter', { exact: true });
      await filter.fill('6 STDERR');
      await page.waitForTimeout(300);
      let rows = (await renderedRows(page)).filter((row) => row.kind === 'line');
      t.ok(rows.length > 5, `${rows.length} matching rows`);
      t.ok(
        rows.every((row) => / \d*6 stderr$/.test(row.text)),
        'only lines containing the text (any case) are left',
      );
      const marks = await page.locator('[role="log"] .row mark').allTextContents();
      t.ok(
        marks.length >= rows.length && marks.every((mark) => mark === '6 stderr'),
        `the match is highlighted (${marks.length} marks)`,
      );
      t.match(await page.locator('.footer').textContent(), /[\d,]+ matching/, 'the footer counts the matches');
      await saveScreenshot(page, 'viewer-filter');

      await filter.fill('/line \\d*3 stdout$/');
      await page.waitForTimeout(300);
      rows = (await renderedRows(page)).filter((row) => row.kind === 'line');
      t.ok(
        rows.length > 5 && rows.every((row) => /line \d*3 stdout$/.test(row.text)),
        'a /regex/ narrows by the expression',
      );

      await filter.fill('/(unclosed/');
      await page.waitForTimeout(300);
      t.match(
        await page.locator('#filter-status').textContent(),
        /Invalid regular expression/,
        'a bad expression is reported',
      );
      t.equal(await filter.getAttribute('aria-invalid'), 'true');

      await filter.fill('');
      await page.waitForTimeout(300);
      rows = (await renderedRows(page)).filter((row) => row.kind === 'line');
      t.ok(
        rows.some((row) => row.stream === 'stdout') && rows.some((row) => row.stream === 'stderr'),
        'cleared: both streams are back',
      );
      t.equal(await page.locator('[role="log"] mark').count(), 0, 'no highlight left');
    },
  );

  await t.test('timestamps can be shown; the visible log downloads as text', async (t) => {
    await page.getByLabel('Timestamps').check();
    await page.waitForTimeout(300);
    const rows = (await renderedRows(page)).filter((row) => row.kind === 'line');
    t.ok(
      rows.every((row) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/.test(row.time ?? '')),
      `every row shows its time (${rows[0]?.time})`,
    );
    await page.getByLabel('Filter', { exact: true }).fill('stderr');
    await page.waitForTimeout(300);
    const { name, text } = await downloadLog(page);
    t.match(name, /^mock-chatty-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.log$/, `the file name: ${name}`);
    const lines = text.trimEnd().split('\n');
    t.ok(lines.length > 20, `${lines.length} lines downloaded`);
    t.ok(
      lines.every((line) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z chatty line \d+ stderr$/.test(line)),
      'what the filter shows, each line with its full time (docker logs -t form)',
    );
    await page.getByLabel('Filter', { exact: true }).fill('');
    await page.getByLabel('Timestamps').uncheck();
    await page.waitForTimeout(200);
    t.equal(await page.locator('[role="log"] .time').count(), 0, 'hidden again');
  });

  await t.test('ANSI: mock-tty’s colours are rendered, no escape code is visible', async (t) => {
    await follow(page, 'mock-tty');
    await waitForRow(page, 'a tty line', (row) => /tty line \d+:/.test(row.text));
    await waitForRow(page, 'an ERROR line', (row) => row.text.startsWith('ERROR'));
    const info = await styleOf(page, '.text span', 'INFO');
    const error = await styleOf(page, '.text span', 'ERROR');
    t.equal(info?.color, await themeColour(page, '--ansi-green'), `INFO is green (${info?.color})`);
    t.equal(error?.color, await themeColour(page, '--ansi-red'), `ERROR is red (${error?.color})`);
    const bold = await page.evaluate(() => {
      const g = globalThis as any;
      const span = [...g.document.querySelectorAll('[role="log"] .text span')].find((s: any) =>
        / ms$/.test(s.textContent),
      );
      return span ? g.getComputedStyle(span).fontWeight : null;
    });
    t.equal(bold, '700', 'the bold run is bold');
    const text = (await logPane(page).textContent()) ?? '';
    t.notOk(text.includes('\x1b'), 'no ESC character in the page');
    t.notMatch(text, /\[\d+m/, 'no escape code such as [32m in the text');
  });

  await t.test('the keyboard reaches the list, the filter and the log', async (t) => {
    await page.getByRole('searchbox', { name: 'Search containers' }).focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(
        () => (globalThis as any).document.activeElement?.getAttribute('aria-label') === 'Follow mock-exit',
      );
    }
    t.ok(reached, 'Tab reaches "Follow mock-exit"');
    await page.keyboard.press('Enter');
    await waitForRow(page, 'a mock-exit line', (row) => row.text.startsWith('exit line '));
    t.equal(await page.locator('.log-title').textContent(), 'mock-exit', 'Enter followed it');
    await logPane(page).focus();
    await page.keyboard.press('/');
    t.equal(
      await page.evaluate(() => (globalThis as any).document.activeElement?.id),
      'log-filter',
      '"/" goes to the Filter',
    );
    await page.keyboard.type('line 1 of');
    await page.waitForTimeout(300);
    const rows = (await renderedRows(page)).filter((row) => row.kind === 'line');
    t.same(
      rows.map((row) => row.text),
      ['exit line 1 of 20'],
      'typing filters',
    );
    await page.keyboard.press('Escape');
    await page.waitForTimeout(300);
    t.equal(await page.getByLabel('Filter', { exact: true }).inputValue(), '', 'Escape clears the Filter');
    const exit = await waitForRow(page, 'the exit marker', (row) => row.marker === 'exit');
    t.equal(exit.text, 'mock-exit exited with code 3', 'the exit is shown');
    await waitForRow(page, 'the end marker', (row) => row.marker === 'end');
    t.match(await page.getByText(/logs: ended/).count(), 1, 'the state says the stream ended');
  });

  await t.test('mock-chatty and mock-exit ticked: one merged stream with both names; the exit is shown', async (t) => {
    await follow(page, 'mock-chatty');
    await select(page, 'mock-exit');
    t.equal(await page.locator('.log-title').textContent(), 'mock-chatty, mock-exit', 'the pane names both');
    const before = await waitForRow(page, 'a named mock-chatty line', (row) => row.name === 'mock-chatty');
    await waitForRow(
      page,
      'a newer mock-chatty line',
      (row) => row.name === 'mock-chatty' && chattyNumber(row.text) > chattyNumber(before.text) + 3,
      10_000,
    );
    t.pass('mock-chatty goes on live in the merged stream');
    // mock-exit wrote and exited at the engine's start: its lines and exit are near the top.
    const line = await findRowFromTop(page, 'a mock-exit line', (row) => row.name === 'mock-exit');
    t.match(line.text, /^exit line \d+ of 20$/, 'mock-exit’s lines are named mock-exit');
    const exit = await findRowFromTop(page, 'the exit marker', (row) => row.marker === 'exit');
    t.equal(exit.text, 'mock-exit exited with code 3', 'mock-exit’s exit is shown in the merged stream');
    const names = new Set((await renderedRows(page)).flatMap((row) => (row.name === null ? [] : [row.name])));
    t.ok(
      [...names].every((name) => name === 'mock-chatty' || name === 'mock-exit'),
      `every line is named by one of the two (${[...names].join(', ')})`,
    );
    await page.getByRole('button', { name: /^↓ Jump to end/ }).click();
  });

  await t.test('"Follow project demo": the Compose project in one stream, migrate’s exit shown', async (t) => {
    await page.getByRole('button', { name: 'Follow project demo', exact: true }).click();
    t.equal(await page.locator('.log-title').textContent(), 'project demo', 'the pane names the project');
    // The live end: the members still running write there.
    for (const name of ['demo-web-1', 'demo-db-1', 'demo-worker-1']) {
      await waitForRow(page, `a line of ${name}`, (row) => row.name === name && row.kind === 'line', 10_000);
    }
    t.ok(
      (await renderedRows(page)).every((row) => row.kind === 'marker' || row.name?.startsWith('demo-')),
      'only the project’s containers are in the stream',
    );
    await saveScreenshot(page, 'viewer-merged');
    // demo-migrate-1 ran at the engine's start: its lines and its exit are in the history.
    await findRowFromTop(page, 'a line of demo-migrate-1', (row) => row.name === 'demo-migrate-1');
    const exit = await findRowFromTop(page, 'migrate’s exit', (row) => row.marker === 'exit');
    t.equal(exit.text, 'demo-migrate-1 exited with code 0', 'the member that exits is shown exiting');
    await page.getByRole('button', { name: /^↓ Jump to end/ }).click();
  });

  await t.test('dark: the page follows the system setting', async (t) => {
    const dark = await open(serve.link, { colorScheme: 'dark' });
    await follow(dark.page, 'mock-tty');
    await waitForRow(dark.page, 'a tty line', (row) => /tty line \d+:/.test(row.text));
    const background = await dark.page.evaluate(() => {
      const g = globalThis as any;
      return g.getComputedStyle(g.document.querySelector('[role="log"]').parentElement).backgroundColor;
    });
    const light = await page.evaluate(() => {
      const g = globalThis as any;
      return g.getComputedStyle(g.document.querySelector('[role="log"]').parentElement).backgroundColor;
    });
    t.not(background, light, `dark and light backgrounds differ (${background} / ${light})`);
    const info = await styleOf(dark.page, '.text span', 'INFO');
    t.equal(info?.color, await themeColour(dark.page, '--ansi-green'), 'ANSI colours use the dark palette');
    await saveScreenshot(dark.page, 'viewer-dark');
  });

  await t.test('no token or a wrong one: a clear message, and a way in', async (t) => {
    const bare = await open(`${serve.url}/`);
    const alert = bare.page.getByRole('alert');
    await alert.waitFor({ timeout: 10_000 });
    t.match(await alert.textContent(), /needs the gateway’s access token/, 'no token: says what is needed');
    t.equal(await bare.page.getByRole('listitem').count(), 0, 'and lists nothing');
    await bare.page.getByLabel('Token').fill('not-the-token');
    await bare.page.getByRole('button', { name: 'Open' }).click();
    await bare.page.getByText(/refused the token \(401\)/).waitFor({ timeout: 10_000 });
    t.pass('a wrong token: says it was refused');
    await saveScreenshot(bare.page, 'viewer-token');
    await bare.page.getByLabel('Token').fill(serve.token);
    await bare.page.getByRole('button', { name: 'Open' }).click();
    await bare.page.getByRole('listitem', { name: 'mock-chatty' }).waitFor({ timeout: 10_000 });
    t.pass('the right token opens the viewer');

    const wrong = await open(`${serve.url}/#token=wrong-token`);
    await wrong.page.getByText(/refused the token \(401\)/).waitFor({ timeout: 10_000 });
    t.equal(wrong.page.url(), `${serve.url}/`, 'a wrong token leaves the address bar too');
  });

  await t.test('another origin cannot read logs; the token is in no request URL and not in the log', async (t) => {
    const foreign = await startPageServer('<!doctype html><title>elsewhere</title><p>another site</p>');
    t.teardown(() => closeServer(foreign.server));
    const other = await open(foreign.origin);
    const handshake = other.page
      .waitForEvent('websocket', { timeout: 10_000 })
      .then((ws) => ws.waitForEvent('socketerror', { timeout: 10_000 }));
    const [seen, error] = await Promise.all([
      other.page.evaluate(
        ([gateway, token]) =>
          new Promise<{ opened: boolean; messages: number; fetched: string }>((resolve) => {
            const g = globalThis as any;
            const protocol = `base64url.bearer.authorization.enginegate.${g.btoa(token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
            const result = { opened: false, messages: 0, fetched: '' };
            const ws = new g.WebSocket(`${gateway.replace('http', 'ws')}/passthrough/engine/logs/mock-chatty`, [
              'v1.json.enginegate',
              protocol,
            ]);
            ws.onopen = () => (result.opened = true);
            ws.onmessage = () => result.messages++;
            ws.onclose = () =>
              g
                .fetch(`${gateway}/passthrough/engine/logs/mock-chatty?follow=false`, {
                  headers: { authorization: `Bearer ${token}` },
                })
                .then(
                  (response: any) => `read ${response.status}`,
                  (err: any) => `refused: ${err.message}`,
                )
                .then((fetched: string) => resolve({ ...result, fetched }));
          }),
        [serve.url, serve.token] as [string, string],
      ),
      handshake,
    ]);
    t.equal(seen.opened, false, 'the WebSocket never opened');
    t.equal(seen.messages, 0, 'no log line reached the other page');
    t.match(error, /Unexpected response code: 403/, `the handshake was answered 403 (${error})`);
    t.match(seen.fetched, /^refused: /, `a fetch with the token cannot be read (${seen.fetched})`);
    const direct = await fetch(`${serve.url}/passthrough/engine/logs/mock-chatty?follow=false`, {
      headers: { authorization: `Bearer ${serve.token}`, origin: foreign.origin },
    });
    t.equal(direct.status, 403, 'the gateway answers 403 to the other origin');

    const secrets = [serve.token, encodeURIComponent(serve.token), Buffer.from(serve.token).toString('base64url')];
    const urls = viewers.filter((v) => v !== other).flatMap((v) => v.requests);
    t.ok(urls.length > 10, `${urls.length} requests of the viewer pages`);
    t.same(
      urls.filter((url) => secrets.some((secret) => url.includes(secret))),
      [],
      'no request URL holds the token',
    );
    t.ok(
      urls.some((url) => url.startsWith('ws://')),
      'WebSockets were among them',
    );
    const log = serve.log();
    t.ok(log.split('\n').length > 5, 'the gateway logged (at debug level)');
    t.same(
      secrets.filter((secret) => log.includes(secret)),
      [],
      'the gateway log holds neither the token nor its base64url form',
    );
    t.same(
      viewers.flatMap((v) => v.cspViolations),
      [],
      'no page reported a Content-Security-Policy violation',
    );
    t.same(
      viewers.flatMap((v) => v.pageErrors),
      [],
      'no uncaught error in any page',
    );
  });
}
