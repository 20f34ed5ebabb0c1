// The viewer under volume, in Debian's Chromium against an in-process gateway on the mock
// engine: 100,000 lines stay smooth (scrolling to the top and back is measured in frames), the
// page's memory is bounded by its line cap (older lines are dropped, and it says how many), and
// a lost connection comes back with after= and a visible marker, no line repeated or skipped.
import t from 'tap';
import type { Browser, Page } from 'playwright-core';
import { createGateway } from '@enginegate/gateway';
import mockPlugin, { type MockEngine } from '@enginegate/plugin-mock';
import { withChromium } from './fixtures/chromium.js';
import { closeViewer, downloadLog, follow, openViewer, renderedRows, waitForRow } from './fixtures/viewer-page.js';

t.setTimeout(240_000);

const TOKEN = 'viewer-volume-token';
const BULK_LINES = 100_000;
const CAP = 100_000;
/** The flood test's cap: the page keeps this many lines… */
const SMALL_CAP = 20_000;
/** …of this many, written live (over the WebSocket, which Chromium delivers a message at a time). */
const FLOOD_LINES = 60_000;
const FLOOD_INTERVAL_MS = 0.1; // 10,000 lines a second

// Budgets, measured on this 2-core machine under the other suites' load (docs/benchmarks.md):
/** Jumping to the top or the end of 100,000 lines: the rows there are on screen within this many frames… */
const JUMP_FRAME_BUDGET = 4;
/** …and this many milliseconds. */
const JUMP_MS_BUDGET = 250;
/**
 * Scrolling through all of it a screenful or more per frame (every row drawn anew each frame): the
 * page's script, style and layout per frame fit in one 60 Hz frame. Wall-clock frame intervals on
 * a loaded 2-core machine say more about the load than about the page; they are reported only.
 */
const SWEEP_WORK_MS_BUDGET = 16.7;
/** The page keeps SMALL_CAP lines of FLOOD_LINES: its heap stays within this factor of its heap when just full. */
const HEAP_GROWTH_BUDGET = 1.35;

function bulkLine(i: number): string {
  return `bulk line ${i + 1} ${'lorem ipsum dolor sit amet '.repeat(2)}`;
}

async function footerText(page: Page): Promise<string> {
  return (await page.locator('.footer').textContent()) ?? '';
}

async function waitForFooter(page: Page, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await footerText(page);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`footer never matched ${pattern}: ${JSON.stringify(text)}`);
    await page.waitForTimeout(200);
  }
}

/** The page's JS heap after a full collection, in bytes (Chromium's own counter, through CDP). */
async function heapUsed(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  await cdp.detach();
  return metrics.find((m) => m.name === 'JSHeapUsedSize')!.value;
}

interface JumpFigures {
  /** `top`: the text of the row at the viewport's top when the jump ended (for a miss's message). */
  toTop: { ms: number; frames: number; top: string | null };
  toEnd: { ms: number; frames: number; top: string | null };
}

interface SweepFigures {
  frames: number;
  p95: number;
  max: number;
  /** Frames painted with no row at the top of the viewport. */
  blank: number;
  domNodes: number;
}

/**
 * In-page helpers, installed once: `next()` resolves after the next frame has been painted
 * (a task queued from requestAnimationFrame runs after that frame's rendering), and `rowAt`
 * says whether a drawn row covers the viewport's top.
 */
const PAGE_HELPERS = `
  globalThis.viewerProbe = {
    pane: document.querySelector('[role="log"]'),
    next() {
      return new Promise((resolve) => requestAnimationFrame((time) => setTimeout(() => resolve(time), 0)));
    },
    rowAtTop() {
      // Where rows are drawn, not what their style says (a transform reads back in 6 digits).
      const edge = this.pane.getBoundingClientRect().top;
      for (const row of this.pane.querySelectorAll('.row')) {
        const { top, bottom } = row.getBoundingClientRect();
        if (top <= edge && edge < bottom) return row.textContent;
      }
      return null;
    },
    drawn(text) {
      return [...this.pane.querySelectorAll('.row')].some((row) => row.textContent.includes(text));
    },
  };
`;

/** Jumps to the top, then to the end; for each, how long until the line there was painted. */
function measureJumps(page: Page, lastLine: number): Promise<JumpFigures> {
  return page.evaluate(async (last) => {
    const probe = (globalThis as any).viewerProbe;
    async function jump(to: number, expect: string) {
      const started = performance.now();
      probe.pane.scrollTop = to;
      let frames = 0;
      while (frames < 240) {
        await probe.next();
        frames++;
        if (probe.drawn(expect)) break;
      }
      return { ms: performance.now() - started, frames, top: probe.rowAtTop() };
    }
    await probe.next();
    const toTop = await jump(0, 'bulk line 1 ');
    const toEnd = await jump(probe.pane.scrollHeight, `bulk line ${last} `);
    return { toTop, toEnd };
  }, lastLine);
}

/** From the top to the end, about 600 steps of at least a screenful, one step per painted frame. */
function sweep(page: Page): Promise<SweepFigures> {
  return page.evaluate(async () => {
    const probe = (globalThis as any).viewerProbe;
    const pane = probe.pane;
    pane.scrollTop = 0;
    await probe.next();
    const times: number[] = [];
    let blank = 0;
    const step = Math.max(pane.clientHeight, pane.scrollHeight / 600);
    for (let to = 0; to <= pane.scrollHeight; to += step) {
      pane.scrollTop = to;
      times.push(await probe.next());
      if (probe.rowAtTop() === null) blank++;
    }
    const intervals = times.slice(1).map((time, i) => time - times[i]!);
    intervals.sort((a, b) => a - b);
    return {
      frames: intervals.length,
      p95: intervals[Math.floor(intervals.length * 0.95)] ?? 0,
      max: intervals.at(-1) ?? 0,
      blank,
      domNodes: (globalThis as any).document.getElementsByTagName('*').length,
    };
  });
}

const WORK_METRICS = ['ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration'] as const;

/**
 * The page's own work while `work` ran, in ms, as Chromium counts it: script, style and layout
 * (`work`), and every main-thread task (`tasks`, which adds paint and waiting on a loaded machine).
 */
async function pageWorkDuring<T>(
  page: Page,
  work: () => Promise<T>,
): Promise<{ result: T; workMs: number; tasksMs: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const read = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const value = (name: string) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
    return { work: WORK_METRICS.reduce((sum, name) => sum + value(name), 0), tasks: value('TaskDuration') };
  };
  const before = await read();
  const result = await work();
  const after = await read();
  await cdp.detach();
  return { result, workMs: after.work - before.work, tasksMs: after.tasks - before.tasks };
}

await withChromium(t, suite);

async function suite(browser: Browser): Promise<void> {
  const gw = await createGateway({
    port: 0,
    token: TOKEN,
    engine: 'mock',
    builtinPlugins: [mockPlugin],
    logger: false,
  });
  t.teardown(() => gw.close());
  const url = await gw.listen();
  const mock = gw.engines.snapshot().engine as MockEngine;
  const link = (cap: number) => `${url}/#token=${TOKEN}&lines=${cap}`;

  mock.addContainer({
    name: 'bulk-100k',
    lineCount: BULK_LINES,
    intervalMs: 0,
    lineAt: (i) => ({ stream: i % 10 === 9 ? 'stderr' : 'stdout', bytes: Buffer.from(bulkLine(i)) }),
  });

  await t.test(
    `${BULK_LINES.toLocaleString('en')} lines: scrolling to the top and back within the frame budget`,
    async (t) => {
      const viewer = await openViewer(browser, link(CAP));
      t.teardown(() => closeViewer(viewer));
      const { page } = viewer;
      const loadStarted = Date.now();
      await follow(page, 'bulk-100k');
      await waitForFooter(page, /^100,000 lines/, 90_000);
      await waitForRow(page, 'the last line at the end', (row) => row.text.startsWith(`bulk line ${BULK_LINES} `));
      const loadMs = Date.now() - loadStarted;
      t.comment(`${BULK_LINES} lines arrived and were drawn in ${loadMs} ms`);

      await page.evaluate(PAGE_HELPERS);
      const jumps = await measureJumps(page, BULK_LINES);
      const { result: swept, workMs, tasksMs } = await pageWorkDuring(page, () => sweep(page));
      const workPerFrame = workMs / swept.frames;
      t.comment(
        `jumps: ${JSON.stringify(jumps)}; sweep: ${JSON.stringify(swept)}; per frame: script+style+layout ${workPerFrame.toFixed(2)} ms, all main-thread tasks ${(tasksMs / swept.frames).toFixed(2)} ms`,
      );
      t.ok(
        jumps.toTop.frames <= JUMP_FRAME_BUDGET && jumps.toTop.ms <= JUMP_MS_BUDGET,
        `to the top: the first line is painted after ${jumps.toTop.frames} frame(s), ${jumps.toTop.ms.toFixed(1)} ms (budget ${JUMP_FRAME_BUDGET} frames, ${JUMP_MS_BUDGET} ms; row at the top ${JSON.stringify(jumps.toTop.top?.slice(0, 80))}, footer ${JSON.stringify(await footerText(page))})`,
      );
      t.ok(
        jumps.toEnd.frames <= JUMP_FRAME_BUDGET && jumps.toEnd.ms <= JUMP_MS_BUDGET,
        `back to the end: the last line is painted after ${jumps.toEnd.frames} frame(s), ${jumps.toEnd.ms.toFixed(1)} ms`,
      );
      t.equal(
        swept.blank,
        0,
        `a sweep through all ${BULK_LINES} lines (${swept.frames} frames): no frame painted an empty viewport`,
      );
      t.ok(
        workPerFrame <= SWEEP_WORK_MS_BUDGET,
        `a frame of the sweep (every row new) costs the page ${workPerFrame.toFixed(2)} ms of script, style and layout (budget ${SWEEP_WORK_MS_BUDGET} ms; frame intervals p95 ${swept.p95.toFixed(1)} ms, longest ${swept.max.toFixed(1)} ms on this loaded machine)`,
      );
      t.ok(
        swept.domNodes < 1500,
        `the page holds ${swept.domNodes} DOM elements for ${BULK_LINES} lines (virtualised)`,
      );
      const heap = await heapUsed(page);
      t.comment(`JS heap with ${BULK_LINES} lines kept: ${(heap / 2 ** 20).toFixed(1)} MiB`);
      t.same(viewer.cspViolations, [], 'no Content-Security-Policy violation');
      t.same(viewer.pageErrors, [], 'no uncaught error in the page');
    },
  );

  await t.test(
    `${FLOOD_LINES.toLocaleString('en')} lines into a page that keeps ${SMALL_CAP.toLocaleString('en')}: memory bounded by the cap, drops counted`,
    async (t) => {
      mock.addContainer({
        name: 'full-20k',
        lineCount: SMALL_CAP,
        intervalMs: 0,
        lineAt: (i) => ({ stream: 'stdout', bytes: Buffer.from(bulkLine(i)) }),
      });
      const viewer = await openViewer(browser, link(SMALL_CAP));
      t.teardown(() => closeViewer(viewer));
      const { page } = viewer;
      await follow(page, 'full-20k');
      await waitForFooter(page, /^20,000 lines · keeping at most 20,000$/, 60_000);
      const heapFull = await heapUsed(page);

      // Created only now, so that every one of its lines is written while the page follows it.
      mock.addContainer({
        name: 'flood-60k',
        lineCount: FLOOD_LINES,
        intervalMs: FLOOD_INTERVAL_MS,
        lineAt: (i) => ({ stream: 'stdout', bytes: Buffer.from(bulkLine(i)) }),
      });
      await follow(page, 'flood-60k');
      const footer = await waitForFooter(page, /40,000 older dropped/, 120_000);
      t.match(footer, /^20,000 lines · 40,000 older dropped · keeping at most 20,000$/, `the footer: ${footer}`);
      await waitForRow(page, 'the last line', (row) => row.text.startsWith(`bulk line ${FLOOD_LINES} `));

      await page.getByRole('log').evaluate((pane: any) => (pane.scrollTop = 0));
      const top = await waitForRow(page, 'the dropped marker at the top', (row) => row.marker === 'dropped');
      t.equal(
        top.text,
        '40,000 older lines dropped (this page keeps the last 20,000)',
        'the first row says how many were dropped',
      );
      const rows = await renderedRows(page);
      t.match(rows[1]?.text, /^bulk line 40001 /, 'the first line kept is line 40,001');

      const heapAfter = await heapUsed(page);
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
      t.comment(
        `JS heap: ${mib(heapFull)} MiB with ${SMALL_CAP} lines kept; ${mib(heapAfter)} MiB after ${FLOOD_LINES} more (${SMALL_CAP} kept)`,
      );
      t.ok(
        heapAfter <= heapFull * HEAP_GROWTH_BUDGET,
        `the heap after ${FLOOD_LINES} lines (${mib(heapAfter)} MiB) is within ${HEAP_GROWTH_BUDGET}× the heap with the page just full (${mib(heapFull)} MiB)`,
      );
      t.same(viewer.pageErrors, [], 'no uncaught error in the page');
    },
  );

  await t.test('a lost connection: a reconnect marker, then lines again, none repeated or skipped', async (t) => {
    mock.addContainer({
      name: 'ticker',
      lineCount: Infinity,
      intervalMs: 50,
      historyLines: 20,
      lineAt: (i) => ({ stream: i % 4 === 3 ? 'stderr' : 'stdout', bytes: Buffer.from(`tick ${i}`) }),
    });
    const viewer = await openViewer(browser, link(CAP));
    t.teardown(() => closeViewer(viewer));
    const { page } = viewer;
    await follow(page, 'ticker');
    await waitForRow(page, 'a tick', (row) => row.text.startsWith('tick '));
    await page.waitForTimeout(500);
    // What a dropped network does: the TCP connections vanish without a close frame (1006).
    for (const client of gw.app.websocketServer.clients) client.terminate();
    const marker = await waitForRow(page, 'the reconnect marker', (row) => row.marker === 'reconnect');
    t.match(
      marker.text,
      /^reconnected: the connection was lost; resumed right after the last line$/,
      'the marker says what happened',
    );
    await page.waitForTimeout(800);
    const after = (await renderedRows(page)).filter((row) => row.top > marker.top && row.kind === 'line');
    t.ok(after.length >= 5, `lines arrive again after the marker (${after.length})`);
    await page.getByText('logs: live').waitFor({ timeout: 10_000 });
    t.pass('the connection state shows live again');

    const { text } = await downloadLog(page);
    const ticks = text
      .split('\n')
      .filter((line) => line.startsWith('tick '))
      .map((line) => Number(line.slice('tick '.length)));
    const wrong = ticks.filter((n, i) => i > 0 && n !== ticks[i - 1]! + 1);
    t.same(
      wrong,
      [],
      `the ${ticks.length} downloaded ticks run on by one across the reconnect: none repeated, none skipped`,
    );
    t.match(
      text,
      /\n-- reconnected: the connection was lost; resumed right after the last line --\n/,
      'the download has the marker',
    );
  });
}
