// A search's first rows before its count, in Chromium with mocked IPC (run `npm run build` first). At
// 10 million events the first page comes back in a millisecond and counting a common term takes a
// second: the rows are painted at once with the rows known so far ("500+ events · counting…"), and the
// count fills in later without moving the list or losing the selection. Here the fake backend holds
// search_count back until the test lets it answer.
// Screenshots: target/screenshots/ui-search-counting*.png.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openApp, screenshotPath } from "./lib/harness.mjs";
import { FakeBackend, generateEvents } from "./lib/fake-backend.mjs";
import { virtualAt } from "./lib/fake-timeline.mjs";
import { domRows, assertRows, settled as settledCounted } from "./lib/timeline-page.mjs";

/** Real rows cover the viewport; here a search may still be counting. */
const settled = (page) => settledCounted(page, { counted: false });

const EVENTS = generateEvents(5000);
const N = 10_000_000;
const HUGE = "/cases/ten-million.tidemark";
const ROW_H = 26;
const HEADER_H = 28;
let server;
let browser;

const fmt = (n) => n.toLocaleString("en-US");

async function setup(backendOpts = {}) {
  const backend = new FakeBackend({ events: EVENTS, ...backendOpts });
  const app = await openApp(browser, server.url, backend);
  return { backend, app, page: app.page };
}

async function clean(app) {
  assert.deepEqual(app.dialogs, [], "no JS dialog opened");
  assert.deepEqual(app.pageErrors, [], "no uncaught errors in the page");
  assert.deepEqual(await app.cspViolations(), [], "no CSP violations");
  await app.close();
}

/**
 * Holds back the answers to `cmd` for `query` until `release()` (the other commands answer at once).
 * `answered` turns true when the held answer has been given.
 */
function hold(backend, cmd, query) {
  let open;
  const gate = new Promise((r) => (open = r));
  const held = { released: false, asked: 0, answered: false, release: () => ((held.released = true), open()) };
  const prev = backend.gate;
  backend.gate = (c, a) => {
    if (c !== cmd || a.query !== query) return prev?.(c, a);
    held.asked++;
    return gate.then(() => setTimeout(() => (held.answered = true), 0));
  };
  return held;
}

async function openDemo(page) {
  await page.getByTestId("open-demo").click();
  await page.getByTestId("case-view").waitFor();
  await status(page, "5,000 events");
  await settled(page);
}

/** Waits for the status bar's count to read `text`. */
async function status(page, text) {
  await page.waitForFunction((t) => document.querySelector('[data-testid="status-count"]')?.textContent === t, text);
}

const statusText = (page) => page.getByTestId("status-count").textContent();

/** The first row whose bottom is below the header. */
async function topIndex(page) {
  return page.evaluate(() => {
    const vp = document.querySelector('[data-testid="timeline"]');
    const top = vp.querySelector('[role="row"]').getBoundingClientRect().bottom;
    const rows = [...vp.querySelectorAll('[data-testid="timeline-row"]')].filter((r) => r.getBoundingClientRect().bottom > top + 0.5);
    return Math.min(...rows.map((r) => Number(r.dataset.index)));
  });
}

async function selected(page) {
  return page.$$eval('[data-testid="timeline-row"][aria-selected="true"]', (els) => els.map((e) => ({ index: Number(e.dataset.index), id: e.dataset.eventId })));
}

const geometry = (page) =>
  page.getByTestId("timeline").evaluate((el) => ({ scrollTop: el.scrollTop, scrollHeight: el.scrollHeight, clientHeight: el.clientHeight, rowcount: Number(el.getAttribute("aria-rowcount")) }));

/** Types a query and presses Enter; returns the time it was sent. */
async function search(page, q) {
  const input = page.getByTestId("search-input");
  await input.fill(q);
  const t0 = Date.now();
  await input.press("Enter");
  return t0;
}

/** Waits until the timeline shows the rows of `q` (its data-query), real rows at the top. */
async function shows(page, q) {
  await page.waitForFunction((query) => document.querySelector('[data-testid="timeline"]')?.dataset.query === query, q);
  await settled(page);
}

/** Records every text the status bar's count shows and every query the timeline shows, from now on. */
async function watch(page) {
  await page.evaluate(() => {
    const seen = { status: [], query: [] };
    window.__seen = seen;
    const el = document.querySelector('[data-testid="status-count"]');
    const vp = document.querySelector('[data-testid="timeline"]');
    const note = () => {
      if (seen.status.at(-1) !== el.textContent) seen.status.push(el.textContent);
      if (seen.query.at(-1) !== vp.dataset.query) seen.query.push(vp.dataset.query);
    };
    note();
    new MutationObserver(note).observe(document.querySelector('[data-testid="case-view"]'), { subtree: true, childList: true, characterData: true, attributes: true });
  });
}
const seen = (page) => page.evaluate(() => window.__seen);

describe("A search's rows before its count", { concurrency: 3 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("a common term paints its first rows while counting; the count fills in without moving the list or losing the selection", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const q = "action:read";
    const expected = backend.sorted(q, "asc");
    assert.ok(expected.length > 1000, `a common term (${expected.length} rows)`);
    const count = hold(backend, "search_count", q);
    const before = await geometry(page);

    const t0 = await search(page, q);
    await shows(page, q);
    const paintMs = Date.now() - t0;
    assert.equal(count.released, false, "the rows are painted before the count answers");
    assert.ok(count.asked === 1, "the count was asked for alongside the first page");
    assert.ok(paintMs < 1500, `first rows painted in ${paintMs} ms`);
    assertRows(await domRows(page), (i) => expected[i]?.id);
    assert.equal(await statusText(page), "500+ events · counting…");
    assert.equal(await page.getByTestId("no-match").count(), 0, "no “No events match” for a search with rows");
    assert.equal(await page.getByTestId("status-span").count(), 0, "no time span before the count");
    const provisional = await geometry(page);
    assert.equal(provisional.rowcount, 501, "the rows known so far and one to load more from");
    assert.ok(provisional.scrollHeight < before.scrollHeight);
    await page.waitForTimeout(250); // "counting…" fades in after 150 ms (a quick count never shows it)
    await page.screenshot({ path: screenshotPath("search-counting") });

    // Reading on while it counts: scroll, select a row (its details open).
    await page.getByTestId("timeline").evaluate((el, y) => (el.scrollTop = y), 100 * ROW_H);
    await settled(page);
    assert.equal(await topIndex(page), 100);
    await page.locator('[data-testid="timeline-row"][data-index="104"]').click();
    await page.getByTestId("detail-pane").waitFor();
    assert.deepEqual(await selected(page), [{ index: 104, id: expected[104].id }]);
    const scrolled = await geometry(page);
    assert.match(await page.locator("footer.status").innerText(), /row 105 selected/);
    // Tagging every match needs no count (the engine tags by the query): offered at once, without a number.
    await page.getByTestId("tab-annotations").click();
    assert.equal(await page.getByTestId("tag-query").isEnabled(), true, "Tag all is offered while counting");
    assert.equal((await page.getByTestId("tag-query").innerText()).replace(/\s+/g, " "), "Tag all matching events");
    assert.equal(count.released, false);

    count.release();
    await status(page, `${fmt(expected.length)} of 5,000 events`);
    assert.equal((await page.getByTestId("tag-query").innerText()).replace(/\s+/g, " "), `Tag all ${fmt(expected.length)} matching events`);
    await page.getByTestId("tab-facets").click();
    await settled(page);
    const after = await geometry(page);
    assert.ok(after.scrollHeight > scrolled.scrollHeight, `the list grew to its count (${scrolled.scrollHeight} → ${after.scrollHeight} px)`);
    assert.equal(after.scrollHeight, HEADER_H + expected.length * ROW_H);
    assert.equal(after.rowcount, expected.length);
    assert.equal(after.scrollTop, scrolled.scrollTop, "the scroll position stays");
    assert.equal(await topIndex(page), 100);
    assert.deepEqual(await selected(page), [{ index: 104, id: expected[104].id }], "the selection stays");
    assert.match(await page.locator("footer.status").innerText(), /row 105 selected/);
    await page.getByTestId("status-span").waitFor();
    // The first block was not asked for again: the count did not start the list over.
    assert.equal(backend.pageLog.filter((p) => p.query === q && p.after === null && p.at === undefined).length, 1);
    // Scrolling to the end now goes all the way.
    await page.getByTestId("timeline").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await settled(page);
    const last = await domRows(page);
    assertRows(last, (i) => expected[i]?.id);
    assert.equal(last.at(-1).index, expected.length - 1);
    await clean(app);
  });

  test("scrolling past the first page while counting loads the next blocks; the status says how many are known", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const q = "action:read";
    const expected = backend.sorted(q, "asc");
    const count = hold(backend, "search_count", q);
    await search(page, q);
    await shows(page, q);
    // The last known row and the "loading…" row after it: the next block comes by keyset.
    await page.getByTestId("timeline").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await status(page, "1,000+ events · counting…");
    await page.getByTestId("timeline").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await status(page, "1,500+ events · counting…");
    await settled(page);
    assertRows(await domRows(page), (i) => expected[i]?.id);
    assert.equal(backend.pageLog.filter((p) => p.query === q && p.at !== undefined).length, 0, "no seeks: one keyset page after another");
    count.release();
    await status(page, `${fmt(expected.length)} of 5,000 events`);
    await clean(app);
  });

  test("a rare term whose count comes first paints once, with its count", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const q = "action:rule";
    const expected = backend.sorted(q, "asc");
    const first = hold(backend, "search_page", q);
    await watch(page);
    await search(page, q);
    await page.waitForTimeout(150);
    assert.equal(await page.getByTestId("timeline").getAttribute("data-query"), "", "the old rows until the first page");
    first.release();
    await shows(page, q);
    await status(page, `${fmt(expected.length)} of 5,000 events`);
    const s = await seen(page);
    assert.deepEqual(s.query, ["", q], "one switch of rows");
    assert.deepEqual(s.status, ["5,000 events", `${fmt(expected.length)} of 5,000 events`], "no “counting…” in between");
    assertRows(await domRows(page), (i) => expected[i]?.id);
    await clean(app);
  });

  test("an invalid query is reported by the first page at once, inline, and the rows stay", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const rowsBefore = await domRows(page);
    const q = "foo:bar";
    const count = hold(backend, "search_count", q);
    await watch(page);
    await search(page, q);
    const err = page.getByTestId("search-error");
    await err.waitFor();
    assert.equal(count.released, false, "reported before the count answers");
    assert.match(await err.innerText(), /Unknown field “foo:”/);
    assert.equal(await page.getByTestId("search-input").getAttribute("aria-invalid"), "true");
    assert.equal(await page.getByTestId("error-banner").count(), 0, "inline, not a banner");
    count.release();
    await page.waitForTimeout(150);
    assert.deepEqual(await domRows(page), rowsBefore, "the rows of the last good search stay");
    assert.equal(await page.getByTestId("timeline").getAttribute("data-query"), "");
    assert.equal(await statusText(page), "5,000 events");
    assert.match(await err.innerText(), /Unknown field “foo:”/);
    const s = await seen(page);
    assert.deepEqual(s.query, [""]);
    assert.deepEqual(s.status, ["5,000 events"]);

    // While a good search is counting, an invalid one keeps its rows, and its count still comes in.
    const common = "action:read";
    const expected = backend.sorted(common, "asc");
    const slow = hold(backend, "search_count", common);
    await search(page, common);
    await shows(page, common);
    assert.equal(await page.getByTestId("search-error").count(), 0);
    assert.equal(await statusText(page), "500+ events · counting…");
    await search(page, "bar:baz");
    await err.waitFor();
    assert.equal(await page.getByTestId("timeline").getAttribute("data-query"), common);
    slow.release();
    await status(page, `${fmt(expected.length)} of 5,000 events`);
    assert.equal(await page.getByTestId("timeline").getAttribute("data-query"), common);
    assert.match(await err.innerText(), /Unknown field “bar:”/);
    await page.screenshot({ path: screenshotPath("search-counting-invalid") });
    await clean(app);
  });

  test("a count that comes after a newer search painted is dropped", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const a = "action:read";
    const b = "actor:alice";
    const slow = hold(backend, "search_count", a);
    await search(page, a);
    await shows(page, a);
    assert.equal(await statusText(page), "500+ events · counting…");
    await search(page, b);
    await shows(page, b);
    const nb = backend.sorted(b, "asc").length;
    await status(page, `${fmt(nb)} of 5,000 events`);
    await watch(page);
    slow.release();
    await page.waitForTimeout(150);
    assert.equal(slow.answered, true, "the old count answered");
    assert.equal(await statusText(page), `${fmt(nb)} of 5,000 events`);
    assert.equal((await geometry(page)).rowcount, nb);
    assert.deepEqual((await seen(page)).status, [`${fmt(nb)} of 5,000 events`], "the old count never showed");
    assertRows(await domRows(page), (i) => backend.sorted(b, "asc")[i]?.id);
    await clean(app);
  });

  test("the open event is looked for in the new search once it is counted", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const all = backend.sorted("", "asc");
    const k = all.findIndex((r) => r.actor === "alice@contoso.example");
    await page.locator(`[data-testid="timeline-row"][data-index="${k}"]`).click();
    await page.getByTestId("detail-pane").waitFor();

    // Not in the new search: said so once counted, not before (a provisional count is not "none").
    const bob = "actor:bob";
    const c1 = hold(backend, "search_count", bob);
    await search(page, bob);
    await shows(page, bob);
    assert.equal(await statusText(page), "500+ events · counting…");
    await page.waitForTimeout(150);
    assert.equal(await page.getByTestId("detail-outside").count(), 0);
    c1.release();
    await page.getByTestId("detail-outside").waitFor();

    // In it: selected and scrolled to once counted.
    const alice = "actor:alice";
    const inAlice = backend.sorted(alice, "asc").findIndex((r) => r.id === all[k].id);
    assert.ok(inAlice >= 0);
    const c2 = hold(backend, "search_count", alice);
    await search(page, alice);
    await shows(page, alice);
    assert.deepEqual(await selected(page), []);
    c2.release();
    await page.waitForFunction((id) => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]')?.dataset.eventId === id, all[k].id);
    assert.equal(await page.getByTestId("detail-outside").count(), 0);
    await clean(app);
  });

  test("10,000,000 rows: the count keeps the rows at the top as the scrollbar scales; End waits for the count", async () => {
    const { app, page, backend } = await setup({
      appInfo: { initial_case: HUGE },
      cases: { [HUGE]: { name: "Ten million events (synthetic)", virtual: N, events: [] } },
    });
    await page.getByTestId("case-view").waitFor();
    await status(page, "10,000,000 events");
    await settled(page);

    const q = "read";
    const count = hold(backend, "search_count", q);
    await search(page, q);
    await shows(page, q);
    assert.equal(await statusText(page), "500+ events · counting…");
    await page.getByTestId("timeline").evaluate((el, y) => (el.scrollTop = y), 200 * ROW_H);
    await settled(page);
    assert.equal(await topIndex(page), 200);
    count.release();
    await status(page, "10,000,000 of 10,000,000 events");
    await settled(page);
    const g = await geometry(page);
    assert.equal(g.rowcount, N);
    assert.equal(g.scrollHeight, 15_000_000 + HEADER_H, "the spacer is capped: the scrollbar is scaled now");
    assert.equal(await topIndex(page), 200, "the same rows at the top");
    // The scrollbar's position was set for the new scale: a scroll event keeps the rows where they are.
    await page.getByTestId("timeline").evaluate((el) => el.dispatchEvent(new Event("scroll")));
    await settled(page);
    assert.equal(await topIndex(page), 200);
    const vh = g.clientHeight - HEADER_H;
    const maxScroll = g.scrollHeight - HEADER_H - vh;
    const maxVirtual = N * ROW_H - vh;
    const mapped = Math.floor((g.scrollTop * maxVirtual) / maxScroll / ROW_H);
    assert.ok(Math.abs(mapped - 200) <= 1, `scrollTop ${g.scrollTop} maps to row ${mapped}, not 200`);
    assertRows(await domRows(page), (i) => virtualAt(N, "asc", i).id);

    // End while counting: nothing yet (the last row is not known); the last row once counted.
    const q2 = "send";
    const c2 = hold(backend, "search_count", q2);
    await search(page, q2);
    await shows(page, q2);
    await page.getByTestId("timeline").focus();
    await page.keyboard.press("End");
    await page.waitForTimeout(150);
    assert.deepEqual(await selected(page), []);
    assert.equal(await topIndex(page), 0);
    c2.release();
    await status(page, "10,000,000 of 10,000,000 events");
    await page.waitForFunction((i) => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]')?.dataset.index === String(i), N - 1);
    await settled(page);
    assert.deepEqual(await selected(page), [{ index: N - 1, id: virtualAt(N, "asc", N - 1).id }]);
    assertRows(await domRows(page), (i) => virtualAt(N, "asc", i).id);
    await clean(app);
  });
});
