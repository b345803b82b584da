// Browser tests of issue 7's UI polish, in Chromium with mocked IPC (run `npm run build` first):
// "Show in folder" after an export and a report's CSV, the mailbox view in the display time zone, the
// open event kept highlighted (or said to be outside) after a pivot, a facet or a new order, the facet
// filters kept in view, and distinct histogram labels over one second.
// Screenshots: target/screenshots/ui-polish-*.png (1280×800, light and dark).

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openApp, screenshotPath } from "./lib/harness.mjs";
import { FakeBackend, generateEvents } from "./lib/fake-backend.mjs";
import { withCaseHomeAndMailbox, FIXTURE as MBX } from "./lib/fake-mailbox.mjs";

const EVENTS = generateEvents(5000);
const ROW_H = 26;
let server;
let browser;

const fmt = (n) => n.toLocaleString("en-US");
const iso = (ms) => new Date(ms).toISOString();

async function setup(opts = {}, { mailbox = false } = {}) {
  let backend = new FakeBackend({ events: EVENTS });
  if (mailbox) backend = withCaseHomeAndMailbox(backend);
  const app = await openApp(browser, server.url, backend, opts);
  return { backend, app, page: app.page };
}

async function clean(app) {
  assert.deepEqual(app.dialogs, [], "no JS dialog opened");
  assert.deepEqual(app.pageErrors, [], "no uncaught errors in the page");
  assert.deepEqual(await app.cspViolations(), [], "no CSP violations");
  assert.equal(await app.page.evaluate(() => document.querySelectorAll("img, iframe, object, embed").length), 0);
  await app.close();
}

async function openDemo(page) {
  await page.getByTestId("open-demo").click();
  await page.getByTestId("case-view").waitFor();
  await page.locator('[data-testid="timeline-row"]').first().waitFor();
}

async function waitCount(page, backend, query) {
  const n = backend.sorted(query, "asc").length;
  const text = n === 5000 && query === "" ? "5,000 events" : `${fmt(n)} of 5,000 events`;
  await page.waitForFunction((t) => document.querySelector('[data-testid="status-count"]')?.textContent === t, text);
  return n;
}

/** The selected timeline row, if any, and whether it is fully inside the table's viewport. */
async function selected(page) {
  return page.evaluate(() => {
    const el = document.querySelector('[data-testid="timeline-row"][aria-selected="true"]');
    if (!el) return null;
    const vp = document.querySelector('[data-testid="timeline"]').getBoundingClientRect();
    const header = document.querySelector('[data-testid="timeline"] [role="row"]').getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return { id: el.dataset.eventId, index: Number(el.dataset.index), visible: r.top >= header.bottom - 1 && r.bottom <= vp.bottom + 1 };
  });
}

async function waitSelected(page, id) {
  await page.waitForFunction((want) => {
    const el = document.querySelector('[data-testid="timeline-row"][aria-selected="true"]');
    return el?.dataset.eventId === want;
  }, id);
  // reveal() may still be moving the viewport: the next frame has it in place.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

describe("UI polish (issue 7)", { concurrency: 3 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("export result: Show in folder beside each file; a file that is gone is said in plain words", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const { app, page, backend } = await setup({ colorScheme });
      await openDemo(page);
      await page.getByTestId("export-open").click();
      await page.getByTestId("export-dialog").waitFor();
      await page.getByTestId("export-path").fill("/exports/polish.csv");
      await page.waitForFunction(() => document.querySelector('[data-testid="export-start"]')?.disabled === false);
      await page.getByTestId("export-start").click();
      await page.getByTestId("export-result").waitFor();
      const show = page.getByTestId("export-show-file");
      assert.equal(await show.count(), 1, "one button per written file");
      assert.equal(await show.innerText(), "Show in folder");
      await show.click();
      for (let i = 0; i < 50 && !(backend.revealed ?? []).length; i++) await page.waitForTimeout(20);
      assert.deepEqual(backend.revealed, ["/exports/polish.csv"]);
      assert.equal(await page.getByTestId("error-banner").count(), 0);

      // Moved or deleted meanwhile: the app's sentence, advice that fits, the code only in the details.
      backend.revealMissing = ["/exports/polish.csv"];
      await show.click();
      const banner = page.getByTestId("error-banner");
      await banner.waitFor();
      assert.equal(await banner.getByTestId("error-message").innerText(), "/exports/polish.csv is not there any more (moved or deleted), so it cannot be shown.");
      assert.match(await banner.innerText(), /open that folder in your file manager yourself/);
      assert.doesNotMatch(await banner.locator(".advice").innerText(), /disk is not full/);
      assert.equal(await banner.locator("details").getAttribute("open"), null, "the code stays in the collapsed details");
      await page.getByTestId("export-dialog").evaluate((el) => el.querySelector(".body").scrollTo(0, 0));
      await page.screenshot({ path: screenshotPath(`polish-export-show${colorScheme === "dark" ? "-dark" : ""}`) });
      // Another try that works takes the message away.
      backend.revealMissing = [];
      await show.click();
      await banner.waitFor({ state: "detached" });
      await clean(app);
    }
  });

  test("mailbox report CSV: times in UTC said beside the button, Show in folder after the export", async () => {
    const { app, page, backend } = await setup({}, { mailbox: true });
    await openDemo(page);
    await page.getByTestId("tab-mailbox").click();
    await page.getByTestId("mailbox-input").fill("adele.vance@contoso.example");
    await page.getByTestId("mailbox-input").press("Enter");
    await page.getByTestId("mailbox-stream").waitFor();
    await page.getByTestId("mailbox-tab-searches").click();
    await page.locator('[data-testid="report-table"][data-kind="searches"]').waitFor();
    assert.equal(await page.getByTestId("report-export-zone").innerText(), "times in UTC");
    backend.dialogSave = () => "/exports/adele-searches.csv";
    await page.getByTestId("report-export").click();
    await page.getByTestId("info-notice").waitFor();
    assert.match(await page.getByTestId("info-notice").innerText(), /Saved 6 rows to \/exports\/adele-searches\.csv .*times in UTC/);
    await page.getByTestId("report-show-file").click();
    for (let i = 0; i < 50 && !(backend.revealed ?? []).length; i++) await page.waitForTimeout(20);
    assert.deepEqual(backend.revealed, ["/exports/adele-searches.csv"]);
    backend.revealMissing = ["/exports/adele-searches.csv"];
    await page.getByTestId("report-show-file").click();
    await page.getByTestId("error-banner").waitFor();
    assert.match(await page.getByTestId("error-banner").innerText(), /adele-searches\.csv is not there any more/);
    await page.screenshot({ path: screenshotPath("polish-report-show") });
    await clean(app);
  });

  test("mailbox view in the display zone: placeholders from the case, fields read in the zone, spans and times in it, rewritten on a zone change", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const { app, page, backend } = await setup({ colorScheme }, { mailbox: true });
      await openDemo(page);
      // The computer's zone (the browser runs in America/New_York).
      await page.getByTestId("zone-select").selectOption("local");
      await page.getByTestId("tab-mailbox").click();
      await page.getByTestId("mailbox-intro").waitFor();
      // Placeholders: the case's first and last minute in that zone, not example dates.
      const first = Math.min(...EVENTS.map((e) => e.row.time_ms));
      const last = Math.max(...EVENTS.map((e) => e.row.time_ms));
      const ny = (ms) =>
        new Intl.DateTimeFormat("sv-SE", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(ms);
      assert.equal(await page.getByTestId("mailbox-from").getAttribute("placeholder"), ny(Math.floor(first / 60_000) * 60_000));
      assert.equal(await page.getByTestId("mailbox-to").getAttribute("placeholder"), ny(Math.ceil(last / 60_000) * 60_000));
      // Named with its offset at the case's last event (December)…
      assert.equal(await page.getByTestId("mailbox-zone").innerText(), "in America/New_York (UTC-05:00)");

      // Typed in New York time; the engine gets UTC (a bare To date: the whole day).
      await page.getByTestId("mailbox-input").fill("adele.vance@contoso.example");
      await page.getByTestId("mailbox-from").fill("2018-05-14 10:00");
      await page.getByTestId("mailbox-to").fill("2018-05-14");
      // …and at the typed time once there is one (May: daylight saving time).
      assert.equal(await page.getByTestId("mailbox-zone").innerText(), "in America/New_York (UTC-04:00)");
      await page.getByTestId("mailbox-show").click();
      await page.getByTestId("mailbox-stream").waitFor();
      const pageCalls = () => backend.calls.filter((c) => c.cmd === "mailbox_page");
      assert.deepEqual(pageCalls().at(-1).args, { mailbox: "adele.vance@contoso.example", from: "2018-05-14T14:00:00.000Z", to: "2018-05-15T03:59:59.999Z", after: null, limit: 200 });
      const inRange = MBX.entries.filter((e) => e.time_ms >= Date.UTC(2018, 4, 14, 14) && e.time_ms < Date.UTC(2018, 4, 15, 4));
      assert.equal(await page.getByTestId("mailbox-entry").count(), inRange.length);
      assert.equal(await page.getByTestId("mailbox-range").innerText(), "· range 2018-05-14 10:00 – 2018-05-14 23:59:59 UTC-04:00");
      const intruder = page.locator('[data-testid="mailbox-session"]', { hasText: "a7e3b9c1-52d4-4f0e-8c6b-1e2d3f4a5b6c" }).first();
      assert.equal(await intruder.getByTestId("session-span").innerText(), "2018-05-14 10:10:00 – 10:18:00 UTC-04:00");
      const e0 = inRange[0];
      const t0 = page.locator(`[data-entry-id="${e0.id}"] .t`);
      const hh = String(new Date(e0.time_ms).getUTCHours() - 4).padStart(2, "0");
      assert.equal(await t0.innerText(), `${hh}${e0.time.slice(13, 23)}`);
      assert.equal(await t0.getAttribute("title"), `2018-05-14 ${hh}${e0.time.slice(13, 23)} UTC-04:00 (2018-05-14 ${e0.time.slice(11, 23)} UTC)`);
      assert.match(await page.getByTestId("mailbox-span").innerText(), /UTC-04:00$/);
      assert.doesNotMatch(await page.getByTestId("mailbox-view").innerText(), /2018-05-14 14:10:00/, "no UTC time left in the stream");
      await page.screenshot({ path: screenshotPath(`polish-mailbox-zone${colorScheme === "dark" ? "-dark" : ""}`) });

      if (colorScheme === "light") {
        // Back to UTC: the fields show the same moments in UTC, the stream follows, Show sends the same range.
        await page.getByTestId("tab-timeline").click();
        await page.getByTestId("zone-select").selectOption("UTC");
        await page.getByTestId("tab-mailbox").click();
        assert.equal(await page.getByTestId("mailbox-from").inputValue(), "2018-05-14 14:00");
        assert.equal(await page.getByTestId("mailbox-to").inputValue(), "2018-05-15 03:59:59");
        assert.equal(await page.getByTestId("mailbox-zone").innerText(), "in UTC");
        assert.equal(await intruder.getByTestId("session-span").innerText(), "2018-05-14 14:10:00 – 14:18:00 UTC");
        await page.getByTestId("mailbox-show").click();
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid="mailbox-entry"]').length === n, inRange.length);
        assert.deepEqual(pageCalls().at(-1).args.to, "2018-05-15T03:59:59.999Z", "the rewritten text stands for the same moment");
        assert.deepEqual(pageCalls().at(-1).args.from, "2018-05-14T14:00:00.000Z");
        // A bad time is refused before the engine is asked, the zone named.
        const before = pageCalls().length;
        await page.getByTestId("mailbox-to").fill("tomorrow");
        await page.getByTestId("mailbox-show").click();
        await page.getByTestId("mailbox-error").waitFor();
        assert.match(await page.getByTestId("mailbox-error").innerText(), /^To needs a date like 2025-12-01 or 2025-12-01 10:00 \(in UTC\); “tomorrow” is not one\.$/);
        assert.equal(pageCalls().length, before);
      }
      await clean(app);
    }
  });

  test("after a pivot, a facet or a new order the open event stays highlighted and in view, or the detail says it is not in the search", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const { app, page, backend } = await setup({ colorScheme });
      await openDemo(page);
      const all = backend.sorted("", "asc");
      const idx = 300;
      const ev = all[idx];
      // Scroll to it and open its details.
      await page.getByTestId("timeline").evaluate((el, y) => (el.scrollTop = y), idx * ROW_H - 100);
      const row = page.locator(`[data-testid="timeline-row"][data-index="${idx}"]`);
      await row.waitFor();
      await page.waitForFunction((i) => document.querySelector(`[data-testid="timeline-row"][data-index="${i}"]`)?.dataset.eventId, idx);
      await row.click();
      await page.getByTestId("detail-pivots").waitFor();
      await waitSelected(page, ev.id);

      // Pivot "Same user": the event is in the new result, further down than the first screen.
      const user = `actor:"${ev.actor}"`;
      await page.locator('[data-testid="detail-pivots"] [data-pivot="user"]').click();
      await waitCount(page, backend, user);
      const pos = backend.sorted(user, "asc").findIndex((r) => r.id === ev.id);
      assert.ok(pos > 40, `position ${pos} is below the first screen`);
      await waitSelected(page, ev.id);
      let s = await selected(page);
      assert.deepEqual(s, { id: ev.id, index: pos, visible: true });
      assert.equal(await page.getByTestId("detail-outside").count(), 0);

      // Newest first: still highlighted, at its new place.
      await page.getByTestId("sort-desc").click();
      const posDesc = backend.sorted(user, "desc").findIndex((r) => r.id === ev.id);
      await page.waitForFunction((i) => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]')?.dataset.index === String(i), posDesc);
      await waitSelected(page, ev.id);
      s = await selected(page);
      assert.deepEqual(s, { id: ev.id, index: posDesc, visible: true });
      await page.getByTestId("sort-asc").click();
      await page.waitForFunction((i) => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]')?.dataset.index === String(i), pos);

      // A facet that leaves it out: the detail stays open and says so; no row is highlighted.
      const ipFilter = `ip:"${ev.client_ip}"`;
      await page.locator(`[data-testid="facet"][data-field="client_ip"] [data-filter='${ipFilter}']`).click({ modifiers: ["Alt"] });
      const without = `${user} -${ipFilter}`;
      await waitCount(page, backend, without);
      const note = page.getByTestId("detail-outside");
      await note.waitFor();
      assert.equal(await note.innerText(), "Not in the current search");
      assert.equal(await selected(page), null);
      assert.equal(await page.getByTestId("detail-pane").count(), 1, "the detail stays open");
      assert.match(await page.getByTestId("detail-pane").innerText(), new RegExp(ev.operation));
      await page.screenshot({ path: screenshotPath(`polish-detail-outside${colorScheme === "dark" ? "-dark" : ""}`) });

      // Removing that filter again: back in the result, highlighted, the note gone.
      await page.locator('[data-testid="facet-active"]', { hasText: "not ip:" }).locator("xpath=following-sibling::button").click();
      await waitCount(page, backend, user);
      await waitSelected(page, ev.id);
      assert.equal(await note.count(), 0);
      assert.deepEqual(await selected(page), { id: ev.id, index: pos, visible: true });
      if (colorScheme === "light") await page.screenshot({ path: screenshotPath("polish-detail-kept") });

      // Another row clicked: that one is the open event now.
      await page.locator('[data-testid="timeline-row"][aria-selected="false"]').first().click();
      await page.waitForFunction((id) => {
        const el = document.querySelector('[data-testid="timeline-row"][aria-selected="true"]');
        return el && el.dataset.eventId !== id;
      }, ev.id);
      await clean(app);
    }
  });

  test("after a facet click far down the panel, the filters in the search stay in view", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const { app, page, backend } = await setup({ colorScheme });
      await openDemo(page);
      const panel = page.locator('[data-testid="sidebar"] .panel');
      await page.locator('[data-testid="facet"][data-field="source"] [data-testid="facet-value"]').first().waitFor();
      // One filter already, then scroll to the bottom and click a value there.
      await page.locator('[data-testid="facet"][data-field="actor"] [data-testid="facet-value"]').first().click();
      await page.getByTestId("facet-active").first().waitFor();
      await panel.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      const scrolled = await panel.evaluate((el) => el.scrollTop);
      assert.ok(scrolled > 200, `the panel scrolls (${scrolled}px)`);
      const value = page.locator('[data-testid="facet"][data-field="workload"] [data-testid="facet-value"]').first();
      const filter = await value.getAttribute("data-filter");
      await value.click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="facet-active"]').length === n, 2);
      const q = await page.getByTestId("search-input").inputValue();
      assert.ok(q.endsWith(filter));
      await waitCount(page, backend, q);
      await page.waitForTimeout(100);
      const geo = await page.evaluate(() => {
        const p = document.querySelector('[data-testid="sidebar"] .panel').getBoundingClientRect();
        const chips = [...document.querySelectorAll('[data-testid="facet-active"]')].map((c) => c.getBoundingClientRect());
        const list = document.querySelector('[data-testid="facet-active-list"]').getBoundingClientRect();
        return { p: { top: p.top, bottom: p.bottom }, list: { top: list.top, bottom: list.bottom }, chips: chips.map((c) => ({ top: c.top, bottom: c.bottom })) };
      });
      assert.ok(geo.list.top >= geo.p.top - 0.5 && geo.list.top <= geo.p.top + 1, `the filters sit at the top of the panel (${JSON.stringify(geo)})`);
      for (const c of geo.chips) assert.ok(c.top >= geo.p.top && c.bottom <= geo.p.bottom, "every filter chip is fully in view");
      // What is under the chips does not show through them.
      const bg = await page.getByTestId("facet-active-list").evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.notEqual(bg, "rgba(0, 0, 0, 0)");
      await page.screenshot({ path: screenshotPath(`polish-facets-chips${colorScheme === "dark" ? "-dark" : ""}`) });
      await clean(app);
    }
  });

  test("a one-second histogram has distinct axis labels, to the millisecond; hovering says the second", async () => {
    for (const colorScheme of ["light", "dark"]) {
      const { app, page, backend } = await setup({ colorScheme });
      await openDemo(page);
      const t = EVENTS[100].row.time_ms;
      const q = `after:${iso(t)} before:${iso(t + 1)}`;
      await page.getByTestId("search-input").fill(q);
      await page.getByTestId("search-input").press("Enter");
      const n = await waitCount(page, backend, q);
      assert.ok(n >= 1);
      await page.waitForFunction(() => document.querySelector('[data-testid="histogram-summary"]')?.textContent.includes("1 s buckets"));
      const ticks = await page.getByTestId("histogram-tick").allInnerTexts();
      assert.ok(ticks.length >= 3, `several labels (${ticks})`);
      assert.equal(new Set(ticks).size, ticks.length, `labels are distinct: ${ticks.join(" | ")}`);
      // The date once, then times to the millisecond.
      const sec = Math.floor(t / 1000) * 1000;
      assert.equal(ticks[0], iso(sec).slice(0, 23).replace("T", " "));
      for (const x of ticks.slice(1)) assert.match(x, /^\d\d:\d\d:\d\d\.\d{3}$/);
      assert.equal(ticks.at(-1), iso(sec + 1000).slice(11, 23));
      // No two labels overlap.
      const boxes = await page.getByTestId("histogram-tick").evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.right]));
      for (let k = 1; k < boxes.length; k++) assert.ok(boxes[k][0] >= boxes[k - 1][1], `label ${k} does not overlap the one before (${JSON.stringify(boxes)})`);
      // Hovering the bucket names its second.
      const box = await page.getByTestId("histogram-plot").boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForFunction(() => /· 1 s ·/.test(document.querySelector('[data-testid="histogram-summary"]')?.textContent ?? ""));
      assert.match(await page.getByTestId("histogram-summary").innerText(), new RegExp(`^${iso(sec).slice(0, 19).replace("T", " ")} UTC · 1 s · `));
      await page.screenshot({ path: screenshotPath(`polish-histogram-second${colorScheme === "dark" ? "-dark" : ""}`) });
      await clean(app);
    }
  });
});
