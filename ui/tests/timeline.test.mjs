// The timeline in Chromium with mocked IPC: 10,000,000 rows (contents computed from the position),
// scaled scrolling, jumps, keyboard, the histogram's drag, columns, time zones, shortcuts.
// Run `npm run build` first. Screenshots: target/screenshots/ui-timeline-*.png.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openApp, screenshotPath } from "./lib/harness.mjs";
import { FakeBackend, generateEvents } from "./lib/fake-backend.mjs";
import { virtualAt } from "./lib/fake-timeline.mjs";
import { settled, domRows, assertRows } from "./lib/timeline-page.mjs";

const EVENTS = generateEvents(5000);
const N = 10_000_000;
const ROW_H = 26;
const HEADER_H = 28;
const HUGE = "/cases/ten-million.tidemark";
let server;
let browser;

async function setup(opts = {}, backendOpts = {}) {
  const backend = new FakeBackend({ events: EVENTS, ...backendOpts });
  const app = await openApp(browser, server.url, backend, opts);
  return { backend, app, page: app.page };
}

async function setupHuge(opts = {}) {
  const r = await setup(opts, {
    appInfo: { initial_case: HUGE },
    cases: { [HUGE]: { name: "Ten million events (synthetic)", virtual: N, events: [] } },
  });
  await r.page.getByTestId("case-view").waitFor();
  await settled(r.page);
  return r;
}

async function assertClean(app) {
  assert.deepEqual(app.dialogs, [], "no JS dialog may open");
  assert.deepEqual(app.pageErrors, [], "no uncaught errors in the page");
  assert.deepEqual(await app.cspViolations(), [], "no CSP violations");
  await app.close();
}

async function openDemo(page) {
  await page.getByTestId("open-demo").click();
  await page.getByTestId("case-view").waitFor();
  await settled(page);
}

/** The first row whose bottom is below the header, and how far its top is above the header. */
async function topRow(page) {
  return page.evaluate(() => {
    const vp = document.querySelector('[data-testid="timeline"]');
    const top = vp.querySelector('[role="row"]').getBoundingClientRect().bottom;
    const rows = [...vp.querySelectorAll('[data-testid="timeline-row"]')].filter((r) => r.getBoundingClientRect().bottom > top + 0.5);
    rows.sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index));
    return { index: Number(rows[0].dataset.index), above: top - rows[0].getBoundingClientRect().top };
  });
}

async function selected(page) {
  return page.$$eval('[data-testid="timeline-row"][aria-selected="true"]', (els) => els.map((e) => ({ index: Number(e.dataset.index), id: e.dataset.eventId })));
}

/** Sets scrollTop to a fraction of the track (what dragging the scrollbar thumb does) and times the paint. */
async function jumpTo(page, frac) {
  return page.evaluate(async (f) => {
    const vp = document.querySelector('[data-testid="timeline"]');
    const t0 = performance.now();
    vp.scrollTop = Math.round((vp.scrollHeight - vp.clientHeight) * f);
    const done = () => {
      if (document.querySelector('[data-testid="timeline-placeholder"]')) return false;
      const rows = vp.querySelectorAll('[data-testid="timeline-row"]');
      return rows.length > 0;
    };
    await new Promise((r) => requestAnimationFrame(r));
    while (!done()) await new Promise((r) => requestAnimationFrame(r));
    return { ms: performance.now() - t0, scrollTop: vp.scrollTop, scrollHeight: vp.scrollHeight, clientHeight: vp.clientHeight };
  }, frac);
}

const fmt = (n) => n.toLocaleString("en-US");

describe("Timeline in Chromium with mocked IPC", { concurrency: 3 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("10,000,000 rows: scrollbar to 73 %, the end, the wheel and the keys show the right rows, without gaps or duplicates", async () => {
    const { app, page, backend } = await setupHuge();
    assert.equal(await page.getByTestId("status-count").innerText(), "10,000,000 events");
    const spacer = await page.getByTestId("timeline-spacer").evaluate((el) => el.getBoundingClientRect().height);
    assert.equal(spacer, 15_000_000, "the spacer stays under the browser's height limit");
    const at = (i) => virtualAt(N, "asc", i).id;
    assertRows(await domRows(page), at);

    // Drag the scrollbar to 73 %: one seek, the rows at 73 % of ten million.
    const before = backend.pageLog.length;
    const j = await jumpTo(page, 0.73);
    await settled(page);
    const vh = j.clientHeight - HEADER_H;
    const virtualTop = (j.scrollTop * (N * ROW_H - vh)) / (j.scrollHeight - j.clientHeight - 0) ;
    const expectedFirst = Math.floor(virtualTop / ROW_H);
    const top = await topRow(page);
    assert.ok(Math.abs(top.index - expectedFirst) <= 1, `row ${top.index} at the top, expected ≈ ${expectedFirst}`);
    assert.ok(Math.abs(top.index / N - 0.73) < 0.001, "73 % of the way down");
    assertRows(await domRows(page), at);
    const jumpPages = backend.pageLog.slice(before);
    assert.ok(jumpPages.some((p) => p.at !== undefined), "the jump seeks (search_page_at)");
    assert.ok(jumpPages.length <= 4, `a jump costs a page or two, not thousands (${jumpPages.length})`);
    console.log(`# jump to 73 % of 10M painted in ${j.ms.toFixed(1)} ms (mocked IPC)`);
    await page.screenshot({ path: screenshotPath("timeline-10m") });

    // The wheel moves pixel by pixel even though one scroll pixel is ~17 content pixels.
    const vpBox = await page.getByTestId("timeline").boundingBox();
    await page.mouse.move(vpBox.x + 300, vpBox.y + 200);
    const t0 = await topRow(page);
    await page.mouse.wheel(0, 3 * ROW_H);
    await page.waitForFunction(([i, rh]) => {
      const vp = document.querySelector('[data-testid="timeline"]');
      const top = vp.querySelector('[role="row"]').getBoundingClientRect().bottom;
      return [...vp.querySelectorAll('[data-testid="timeline-row"]')].some((r) => Number(r.dataset.index) === i && Math.abs(r.getBoundingClientRect().top - top) < rh);
    }, [t0.index + 3, ROW_H]);
    await settled(page);
    const t1 = await topRow(page);
    assert.equal(t1.index, t0.index + 3, "three rows of wheel = three rows");
    assert.ok(Math.abs(t1.above - t0.above) < 1.01, `same sub-row offset (${t0.above} → ${t1.above})`);
    await page.mouse.wheel(0, 10);
    await page.waitForTimeout(50);
    const t2 = await topRow(page);
    assert.ok(Math.abs((t2.index * ROW_H + t2.above) - (t1.index * ROW_H + t1.above) - 10) < 1.01, "10 px of wheel = 10 px of content");
    assertRows(await domRows(page), at);

    // Keys: click a row, End, k, PageUp, Home.
    await page.locator(`[data-testid="timeline-row"][data-index="${t2.index + 2}"]`).click();
    await page.keyboard.press("Escape");
    await page.keyboard.press("End");
    await settled(page);
    await page.waitForFunction(() => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]') !== null);
    assert.deepEqual(await selected(page), [{ index: N - 1, id: at(N - 1) }]);
    const sel = await page.locator('[data-testid="timeline-row"][aria-selected="true"]').boundingBox();
    const box = await page.getByTestId("timeline").boundingBox();
    assert.ok(sel.y + sel.height <= box.y + box.height + 1 && sel.y >= box.y + HEADER_H - 1, "the last row is fully visible");
    assertRows(await domRows(page), at);
    for (const k of ["k", "k", "ArrowUp"]) await page.keyboard.press(k);
    assert.equal((await selected(page))[0].index, N - 4);
    await page.keyboard.press("PageUp");
    const afterPgUp = (await selected(page))[0].index;
    assert.ok(afterPgUp < N - 4 - 10 && afterPgUp > N - 4 - 40, `PageUp moves a screenful (${afterPgUp})`);
    await page.keyboard.press("PageDown");
    assert.equal((await selected(page))[0].index, N - 4);
    await page.keyboard.press("Home");
    await settled(page);
    await page.waitForFunction(() => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]')?.dataset.index === "0");
    assert.equal((await selected(page))[0].id, at(0));
    assert.equal(await page.getByTestId("timeline").evaluate((el) => el.scrollTop), 0);

    // Newest first from the time header: row 0 is the last event, End the first.
    await page.getByTestId("sort-time").click();
    await settled(page);
    const desc = (i) => virtualAt(N, "desc", i).id;
    assertRows(await domRows(page), desc);
    await page.getByTestId("timeline").focus();
    await page.keyboard.press("End");
    await settled(page);
    await page.waitForFunction(() => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]') !== null);
    assert.deepEqual(await selected(page), [{ index: N - 1, id: at(0) }]);
    await assertClean(app);
  });

  test("10,000,000 rows: rapid jumps across the scrollbar settle on exactly the right rows", async () => {
    const { app, page, backend } = await setupHuge();
    const at = (i) => virtualAt(N, "asc", i).id;
    const fracs = [0.9, 0.1, 0.5, 0.73, 0.999, 0.0001, 0.33, 0.66, 1, 0.25, 0.42, 0.87, 0.05, 0.6, 0.73];
    // As fast as a drag: one position per frame, no waiting for pages.
    await page.evaluate(async (fs) => {
      const vp = document.querySelector('[data-testid="timeline"]');
      for (const f of fs) {
        vp.scrollTop = Math.round((vp.scrollHeight - vp.clientHeight) * f);
        await new Promise((r) => requestAnimationFrame(r));
      }
    }, fracs);
    await settled(page);
    assertRows(await domRows(page), at);
    const top = await topRow(page);
    assert.ok(Math.abs(top.index / N - 0.73) < 0.001);
    // Blocks nobody wanted any more were not all fetched.
    assert.ok(backend.pageLog.length < 2 * fracs.length + 2, `pages fetched: ${backend.pageLog.length}`);
    // Time each jump on its own (mocked IPC: this is the UI's share of the < 100 ms budget).
    const times = [];
    for (const f of [0.2, 0.8, 0.55, 0.95, 0.01, 0.73]) {
      times.push((await jumpTo(page, f)).ms);
      await settled(page);
      assertRows(await domRows(page), at);
    }
    times.sort((a, b) => a - b);
    console.log(`# jumps at 10M: median ${times[3].toFixed(1)} ms, max ${times.at(-1).toFixed(1)} ms to paint (mocked IPC)`);
    // The mocked IPC moves 500 rows through Playwright in ~170 ms, so this bounds the UI's own work
    // loosely; the real app's latency is measured with the engine (tidemark-bench) and the real webview.
    assert.ok(times[3] < 1500, `a jump paints (median ${times[3]} ms)`);
    await assertClean(app);
  });

  test("histogram: follows the query, drag narrows it to a time range, double-click resets", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const plot = page.getByTestId("histogram-plot");
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="histogram-plot"] rect.seg').length > 50);
    assert.match(await page.getByTestId("histogram-summary").innerText(), /^5,000 events in \d+ (min|h) buckets$/);
    const legend = await page.getByTestId("legend").innerText();
    for (const g of ["Sign-in", "Failed sign-in", "Read", "Send", "Delete, move", "Rules, forwarding"]) assert.ok(legend.includes(g), `legend has ${g}`);

    const b = await plot.boundingBox();
    await page.mouse.move(b.x + b.width * 0.3, b.y + 30);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.45, b.y + 30, { steps: 4 });
    await page.mouse.move(b.x + b.width * 0.55, b.y + 30, { steps: 4 });
    await page.getByTestId("histogram-selection").waitFor();
    await page.screenshot({ path: screenshotPath("timeline-histogram-drag") });
    await page.mouse.up();
    await page.mouse.move(5, 5); // off the chart: its header shows the summary again, not the hovered bucket
    const input = page.getByTestId("search-input");
    await page.waitForFunction(() => /after:\S+ before:\S+/.test(document.querySelector('[data-testid="search-input"]').value));
    const q = await input.inputValue();
    const [, a, z] = /after:(\S+) before:(\S+)/.exec(q);
    const lo = Date.parse(a.length === 16 ? `${a}Z` : a);
    const hi = Date.parse(z.length === 16 ? `${z}Z` : z);
    assert.ok(hi > lo);
    const expected = backend.sorted(q, "asc");
    assert.ok(expected.length > 100 && expected.length < 4000, `the range holds part of the events (${expected.length})`);
    await page.waitForFunction((t) => document.querySelector('[data-testid="status-count"]')?.textContent === t, `${fmt(expected.length)} of 5,000 events`);
    await settled(page);
    const rows = await domRows(page);
    for (const r of rows) {
      const ev = expected[r.index];
      assert.equal(r.id, ev.id);
      assert.ok(ev.time_ms >= lo && ev.time_ms <= hi);
    }
    // The histogram follows: it now spans the range only.
    await page.waitForFunction((n) => document.querySelector('[data-testid="histogram-summary"]')?.textContent.startsWith(n), `${fmt(expected.length)} events`);
    await page.getByTestId("histogram-reset").waitFor();
    await page.waitForTimeout(100);
    await page.screenshot({ path: screenshotPath("timeline-histogram") });

    // Double-click: all time again, other terms kept.
    await input.fill(`actor:alice ${q}`);
    await input.press("Enter");
    await page.waitForFunction(() => !/^5,000/.test(document.querySelector('[data-testid="status-count"]')?.textContent ?? "x"));
    await plot.dblclick({ position: { x: 40, y: 30 } });
    await page.waitForFunction(() => document.querySelector('[data-testid="search-input"]').value === "actor:alice");
    await page.waitForFunction((t) => document.querySelector('[data-testid="status-count"]')?.textContent === t, `${fmt(backend.sorted("actor:alice", "asc").length)} of 5,000 events`);
    assert.equal(await page.getByTestId("histogram-reset").count(), 0);
    const calls = backend.calls.filter((c) => c.cmd === "histogram").map((c) => c.args.query);
    assert.ok(calls.includes("") && calls.includes(q) && calls.includes("actor:alice"), "the histogram follows every query");
    await assertClean(app);
  });

  test("columns are chosen and remembered; the time zone applies to every time shown", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const header = () => page.$$eval('[data-testid="timeline"] [role="columnheader"]', (els) => els.map((e) => e.textContent.trim()));
    assert.deepEqual(await header(), ["Time (UTC) ▲", "Action", "Operation", "Actor", "Mailbox", "IP", "Network", "Client", "Subject", "Source"]);
    await page.getByTestId("columns-button").click();
    await page.getByTestId("column-network").uncheck();
    await page.getByTestId("column-session").check();
    await page.getByTestId("column-workload").check();
    await page.getByTestId("column-folder").uncheck();
    await page.getByTestId("column-ip").uncheck();
    assert.equal(await page.getByTestId("column-time").isDisabled(), true, "time is always shown");
    await page.screenshot({ path: screenshotPath("timeline-columns") });
    await page.keyboard.press("Escape");
    assert.deepEqual(await header(), ["Time (UTC) ▲", "Action", "Operation", "Actor", "Mailbox", "Client", "Subject", "Session", "Workload", "Source"]);

    // Local time (the browser runs in America/New_York): cells, header, status span, detail.
    const first = backend.sorted("", "asc")[0];
    await page.getByTestId("zone-select").selectOption("local");
    assert.equal((await header())[0], "Time (America/New_York) ▲");
    const ny = new Intl.DateTimeFormat("sv-SE", { timeZone: "America/New_York", dateStyle: "short", timeStyle: "medium" }).format(new Date(first.time_ms));
    const cell = await page.locator(`[data-event-id="${first.id}"] [role="gridcell"]`).first().innerText();
    assert.equal(cell, `${ny}.${String(first.time_ms % 1000).padStart(3, "0")} -05:00`);
    assert.match(await page.getByTestId("status-span").innerText(), /UTC-05:00$/);

    // A chosen zone.
    await page.getByTestId("zone-select").selectOption("other");
    await page.getByTestId("zone-input").fill("Asia/Kolkata");
    await page.getByTestId("zone-apply").click();
    assert.equal((await header())[0], "Time (Asia/Kolkata) ▲");
    assert.match(await page.locator(`[data-event-id="${first.id}"] [role="gridcell"]`).first().innerText(), / \+05:30$/);
    await page.locator(`[data-event-id="${first.id}"]`).click();
    await page.getByTestId("detail-pane").waitFor();
    const utc = first.time.replace("T", " ").replace("Z", "");
    await page.waitForFunction((u) => document.querySelector('[data-testid="detail-fields"]')?.textContent.includes(`UTC+05:30 (${u} UTC)`), utc);
    await page.screenshot({ path: screenshotPath("timeline-zone") });

    // Both are remembered.
    await page.reload();
    await page.waitForFunction(() => window.__tidemarkMockReady === true);
    await openDemo(page);
    assert.deepEqual(await header(), ["Time (Asia/Kolkata) ▲", "Action", "Operation", "Actor", "Mailbox", "Client", "Subject", "Session", "Workload", "Source"]);
    await page.getByTestId("zone-select").selectOption("UTC");
    assert.equal((await header())[0], "Time (UTC) ▲");
    await assertClean(app);
  });

  test("? lists the shortcuts; the query help lists every field", async () => {
    const { app, page } = await setup();
    await openDemo(page);
    await page.getByTestId("timeline").focus();
    await page.keyboard.press("?");
    const sheet = page.getByTestId("shortcuts");
    await sheet.waitFor();
    const text = await sheet.innerText();
    for (const k of ["j", "k", "Enter", "Home", "End", "Page Down", "/", "?"]) assert.ok(text.includes(k), `lists ${k}`);
    for (const k of ["Ctrl+1", "Ctrl+2", "Ctrl+3"]) assert.ok(text.includes(k), `lists ${k}`);
    await page.screenshot({ path: screenshotPath("timeline-shortcuts") });
    await page.keyboard.press("Escape");
    await sheet.waitFor({ state: "detached" });
    // In the search box ? is a character.
    await page.keyboard.press("/");
    await page.keyboard.type("?");
    assert.equal(await page.getByTestId("shortcuts").count(), 0);
    await page.getByTestId("search-input").fill("");
    await page.getByTestId("query-help-button").click();
    const help = await page.getByTestId("query-help").innerText();
    for (const f of ["actor:", "mailbox:", "ip:", "op:", "action:", "app:", "session:", "msgid:", "folder:", "source:", "workload:", "tag:", "is:bookmarked", "has:note", "after:", "OR"]) {
      assert.ok(help.includes(f), `help lists ${f}`);
    }
    await assertClean(app);
  });

  test("dark theme: histogram, legend and row colours", async () => {
    const { app, page } = await setup({ colorScheme: "dark" });
    await openDemo(page);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="histogram-plot"] rect.seg').length > 50);
    const fill = await page.locator('[data-testid="histogram-plot"] rect.seg').first().evaluate((el) => getComputedStyle(el).fill);
    assert.notEqual(fill, "rgb(0, 0, 0)", "stacks are coloured");
    await page.screenshot({ path: screenshotPath("timeline-dark") });
    await assertClean(app);
  });
});
