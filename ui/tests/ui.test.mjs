// Browser tests of the built UI (ui/dist) in Debian's Chromium, with Tauri IPC mocked at the
// IPC level and answered by an in-test fake backend. Run `npm run build` first.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openApp, screenshotPath } from "./lib/harness.mjs";
import { FakeBackend, generateEvents, virtualRow, XSS_IMG } from "./lib/fake-backend.mjs";
import { withCaseHomeAndMailbox, FIXTURE as MBX, XSS_SCRIPT } from "./lib/fake-mailbox.mjs";
import { settled, domRows, assertRows } from "./lib/timeline-page.mjs";

const EVENTS = generateEvents(5000);
const ROW_H = 26;
const HEADER_H = 28;
let server;
let browser;

const fmt = (n) => n.toLocaleString("en-US");

async function setup(opts = {}, backendOpts = {}) {
  const backend = new FakeBackend({ events: EVENTS, ...backendOpts });
  const app = await openApp(browser, server.url, backend, opts);
  return { backend, app, page: app.page };
}

/** Everything that must hold at the end of every test. */
async function assertClean(app) {
  assert.deepEqual(app.dialogs, [], "no alert() or other JS dialog may ever open");
  assert.deepEqual(app.pageErrors, [], "no uncaught errors in the page");
  assert.deepEqual(await app.cspViolations(), [], "no CSP violations");
  const foreign = app.requests.filter((u) => !u.startsWith(server.url) && !u.startsWith("data:"));
  assert.deepEqual(foreign, [], "no requests leave the app's origin");
  const imgs = await app.page.evaluate(() => document.querySelectorAll("img, iframe, object, embed").length);
  assert.equal(imgs, 0, "no img/iframe/object element was created from data");
  await app.close();
}

async function openDemo(page) {
  await page.getByTestId("open-demo").click();
  await page.getByTestId("case-view").waitFor();
  await settled(page);
}

/** Index of the first row whose top edge is at or below the sticky header. */
async function firstVisibleIndex(page) {
  return page.evaluate(() => {
    const vp = document.querySelector('[data-testid="timeline"]');
    const header = vp.querySelector('[role="row"]');
    const top = header.getBoundingClientRect().bottom;
    const rows = [...vp.querySelectorAll('[data-testid="timeline-row"]')];
    const vis = rows.filter((r) => r.getBoundingClientRect().bottom > top + 1).map((r) => Number(r.dataset.index));
    return Math.min(...vis);
  });
}

async function selectedRow(page) {
  return page.$$eval('[data-testid="timeline-row"][aria-selected="true"]', (els) =>
    els.map((e) => ({ index: Number(e.getAttribute("data-index")), id: e.getAttribute("data-event-id") })),
  );
}

function assertPageChain(log, query, sort) {
  const pages = log.filter((p) => p.query === query && p.sort === sort);
  assert.ok(pages.length > 0);
  // Blocks sit at fixed positions: a page is the first (after=null), a keyset page after a page we already
  // have (its `next`), or a seek to a block boundary (search_page_at). No block is fetched twice.
  const nexts = new Set();
  const starts = new Set();
  for (const p of pages) {
    if (p.at !== undefined) assert.equal(p.at % 500, 0, "seeks land on block boundaries");
    else if (p.after !== null) assert.ok(nexts.has(p.after), "a keyset page continues a page that was fetched");
    if (p.after === null && p.at === undefined) starts.clear();
    assert.ok(!starts.has(p.start), `no block is fetched twice (row ${p.start})`);
    starts.add(p.start);
    if (p.next) nexts.add(p.next);
    assert.ok(p.limit <= 1000);
  }
}

// Tests share one browser and server but each has its own context and fake backend, so they run
// side by side to keep the suite short.
describe("Tidemark UI in Chromium with mocked IPC", { concurrency: 3 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("start screen, open the demo case, rows render in UTC", async () => {
    const { app, page, backend } = await setup();
    await page.getByTestId("start-screen").waitFor();
    const missing = page.locator('[data-testid="recent-case"][data-path="/media/usb/old.tidemark"]');
    assert.match(await missing.innerText(), /file not found/);
    assert.equal(await missing.isDisabled(), true);
    await page.screenshot({ path: screenshotPath("start") });

    await openDemo(page);
    assert.equal(await page.getByTestId("case-name").innerText(), "Contoso BEC (demo)");
    assert.equal(await page.getByTestId("status-count").innerText(), "5,000 events");
    const expected = backend.sorted("", "asc");
    const rows = await domRows(page);
    assertRows(rows, (i) => expected[i]?.id);
    assert.equal(rows[0].index, 0);
    assert.ok(rows.length < 80, `only visible rows + overscan are in the DOM (got ${rows.length})`);
    // Times are UTC even though the browser runs in America/New_York.
    const first = expected[0];
    const timeCell = await page.locator(`[data-event-id="${first.id}"] [role="gridcell"]`).first().innerText();
    assert.equal(timeCell, first.time.replace("T", " ").replace("Z", ""));
    const span = await page.getByTestId("status-span").innerText();
    assert.match(span, /^2025-12-01 08:0\d – 2025-12-0\d \d\d:\d\d UTC$/);
    await page.screenshot({ path: screenshotPath("timeline") });
    await assertClean(app);
  });

  test("typing a query narrows the rows and updates the count (debounced)", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const input = page.getByTestId("search-input");
    const countsBefore = backend.calls.filter((c) => c.cmd === "search_count").length;
    await input.pressSequentially("actor:alice", { delay: 15 });
    const expected = backend.sorted("actor:alice", "asc");
    assert.ok(expected.length > 100 && expected.length < 5000);
    await page.waitForFunction(
      (t) => document.querySelector('[data-testid="status-count"]')?.textContent === t,
      `${fmt(expected.length)} of 5,000 events`,
    );
    await settled(page);
    assertRows(await domRows(page), (i) => expected[i]?.id);
    const countCalls = backend.calls.filter((c) => c.cmd === "search_count").slice(countsBefore);
    assert.ok(countCalls.length <= 3, `typing is debounced (${countCalls.length} count calls for 11 keystrokes)`);
    assert.equal(countCalls.at(-1).args.query, "actor:alice");

    // Enter runs at once; Esc clears.
    await input.fill("actor:alice action:logon-failed");
    await input.press("Enter");
    const narrower = backend.sorted("actor:alice action:logon-failed", "asc");
    await page.waitForFunction((t) => document.querySelector('[data-testid="status-count"]')?.textContent === t, `${fmt(narrower.length)} of 5,000 events`);
    await settled(page);
    assertRows(await domRows(page), (i) => narrower[i]?.id);

    await input.press("Escape");
    await page.waitForFunction(() => document.querySelector('[data-testid="status-count"]')?.textContent === "5,000 events");
    assert.equal(await input.inputValue(), "");

    // A query that matches nothing says so.
    await input.fill("zzzznothing");
    await input.press("Enter");
    await page.getByTestId("no-match").waitFor();
    assert.equal(await page.getByTestId("status-count").innerText(), "0 of 5,000 events");
    await assertClean(app);
  });

  test("an invalid query shows the backend's message inline and keeps the rows", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const input = page.getByTestId("search-input");
    await input.fill("foo:bar");
    await input.press("Enter");
    const err = page.getByTestId("search-error");
    await err.waitFor();
    assert.match(await err.innerText(), /Unknown field “foo:”/);
    assert.equal(await input.getAttribute("aria-invalid"), "true");
    assert.equal(await page.getByTestId("status-count").innerText(), "5,000 events");
    assert.equal(await page.getByTestId("error-banner").count(), 0, "not a banner: inline under the search box");
    await page.screenshot({ path: screenshotPath("invalid-query") });
    await page.getByTestId("query-help-button").click();
    await page.getByTestId("query-help").waitFor();
    await page.screenshot({ path: screenshotPath("query-help") });
    // Picking an example from the help runs it.
    await page.getByTestId("query-help").getByRole("button", { name: "action:rule", exact: true }).click();
    const rules = backend.sorted("action:rule", "asc");
    await page.waitForFunction((t) => document.querySelector('[data-testid="status-count"]')?.textContent === t, `${fmt(rules.length)} of 5,000 events`);
    assert.equal(await err.count(), 0);
    await assertClean(app);
  });

  test("clicking a row shows the detail; attacker text stays text", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const input = page.getByTestId("search-input");
    await input.fill("subject:onerror");
    await input.press("Enter");
    const expected = backend.sorted("subject:onerror", "asc");
    await page.waitForFunction((t) => document.querySelector('[data-testid="status-count"]')?.textContent === t, `${fmt(expected.length)} of 5,000 events`);
    await settled(page);
    const target = expected[0];
    assert.equal(target.subject, XSS_IMG);
    const rowEl = page.locator(`[data-testid="timeline-row"][data-event-id="${target.id}"]`);
    assert.match(await rowEl.innerText(), /<img src=x onerror=alert\(1\)>/);
    await rowEl.click();
    const pane = page.getByTestId("detail-pane");
    await pane.waitFor();
    const raw = page.getByTestId("detail-raw");
    await raw.waitFor();
    const rawText = await raw.textContent();
    assert.ok(rawText.includes(`"Subject": "${XSS_IMG}"`), "raw JSON shown verbatim as text");
    assert.ok(rawText.includes(`"ClientInfoString"`));
    assert.equal(await raw.evaluate((el) => el.tagName), "PRE");
    assert.equal(await raw.evaluate((el) => el.children.length), 0, "raw record is a single text node");
    const fields = await page.getByTestId("detail-fields").innerText();
    assert.match(fields, /Time\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC/);
    assert.ok(fields.includes(XSS_IMG));
    // Nothing from the data became markup anywhere in the document.
    const markup = await page.evaluate(() => ({
      img: document.querySelectorAll("img").length,
      onerror: document.querySelectorAll("[onerror], [onload]").length,
      scripts: [...document.scripts].map((s) => s.getAttribute("src")),
    }));
    assert.deepEqual(markup.img, 0);
    assert.deepEqual(markup.onerror, 0);
    assert.ok(markup.scripts.every((s) => s && s.startsWith("/")), "only the app's own scripts");
    await page.waitForTimeout(50);
    await page.screenshot({ path: screenshotPath("detail") });

    // Inbox rule names are attacker-controlled too.
    await input.fill("action:rule");
    await input.press("Enter");
    const rules = backend.sorted("action:rule", "asc");
    await page.waitForFunction((t) => document.querySelector('[data-testid="status-count"]')?.textContent === t, `${fmt(rules.length)} of 5,000 events`);
    await settled(page);
    await page.locator(`[data-testid="timeline-row"][data-index="0"]`).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="detail-extra"]') !== null);
    const extra = await page.getByTestId("detail-extra").textContent();
    assert.ok(extra.includes(`"RuleName": "${XSS_IMG}"`));
    assert.equal(await page.evaluate(() => document.querySelectorAll("img").length), 0);

    // An event received twice says so and lists both provenances.
    await input.press("Escape");
    await page.waitForFunction(() => document.querySelector('[data-testid="status-count"]')?.textContent === "5,000 events");
    // The open rule event stays selected in the whole list (scrolled to); back to the top.
    await page.waitForFunction((id) => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]')?.dataset.eventId === id, rules[0].id);
    await page.getByTestId("timeline").evaluate((el) => (el.scrollTop = 0));
    await settled(page);
    const all = backend.sorted("", "asc");
    const dupIndex = all.findIndex((r) => EVENTS.find((e) => e.row.id === r.id).dup);
    assert.ok(dupIndex >= 0 && dupIndex < 20);
    await page.locator(`[data-testid="timeline-row"][data-index="${dupIndex}"]`).click();
    await page.getByTestId("detail-received").waitFor();
    assert.match(await page.getByTestId("detail-received").innerText(), /^Received 2 times/);
    assert.equal(await page.getByTestId("detail-provenance").count(), 2);
    await assertClean(app);
  });

  test("the IP card in the detail pane: country, network, kind, where else the address is seen; owner names stay text", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const target = backend.sorted("", "asc")[0];
    const owner = '<img src=x onerror=alert(1)> Hosting, LLC';
    backend.ipCards = {
      [target.client_ip]: {
        ip: target.client_ip, country: "NL", country_name: "Netherlands", asn: 14061, network: owner,
        class: "hosting", class_label: "Hosting / cloud", note: null,
        first_seen: "2025-03-02T10:00:00.000Z", last_seen: "2025-03-04T18:30:00.000Z", events: 1234,
        accounts: ["adele@contoso.example", "mallory@contoso.example"],
        data: { name: "DB-IP Lite country and ASN data (ip-location-db)", version: "asn 2.3, country 2.3", date: "2026-06-01", licence: "CC BY 4.0", credit: "DB-IP" },
      },
    };
    await page.locator('[data-testid="timeline-row"][data-index="0"]').click();
    const card = page.getByTestId("ip-card");
    await card.waitFor();
    assert.equal(await page.getByTestId("ip-card-country").innerText(), "Netherlands (NL)");
    assert.equal(await page.getByTestId("ip-card-network").innerText(), `${owner} · AS14061`);
    assert.equal(await page.getByTestId("ip-card-class").innerText(), "Hosting / cloud");
    assert.match(await page.getByTestId("ip-card-seen").innerText(), /^1,234 events, .+ – .+$/);
    assert.equal(await page.getByTestId("ip-card-accounts").innerText(), "adele@contoso.example\nmallory@contoso.example");
    assert.match(await page.getByTestId("ip-card-credit").innerText(), /DB-IP Lite .* data of 2026-06-01 \(CC BY 4\.0\)/);
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath("detail-ip-card") });
    await page.getByTestId("ip-card-network-pivot").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="search-input"]')?.value === "asn:14061");
    await assertClean(app);
  });

  test("accounts view: accounts, where sessions came from, a session used from two networks; Show in timeline; names stay text", async () => {
    const { app, page, backend } = await setup();
    const evil = '<img src=x onerror=alert(1)>@contoso.example';
    const sess = (over) => ({
      id: "1", kind: "session-id", session_id: null, first_time: "2025-03-04T03:00:00.000Z", last_time: "2025-03-04T03:40:00.000Z",
      ips: ["198.51.100.20"], countries: ["GB"], networks: ["British Telecommunications PLC"], clients: ["Outlook desktop"], apps: [],
      events: 12, counts: [{ action: "read", count: 12 }], replayed: false, new_values: 0, ...over,
    });
    backend.accountList = [
      { account: "adele@contoso.example", first_time: "2025-03-01T08:00:00.000Z", last_time: "2025-03-05T18:00:00.000Z", events: 1900, distinct: [2, 3, 4, 3, 3, 2], new_values: 5 },
      { account: evil, first_time: "2025-03-02T08:00:00.000Z", last_time: "2025-03-02T09:00:00.000Z", events: 3, distinct: [0, 0, 1, 1, 1, 0], new_values: 0 },
    ];
    backend.accountSessions = {
      "adele@contoso.example": [
        sess({ id: "10" }),
        sess({ id: "20", session_id: "S-evil", first_time: "2025-03-04T03:10:00.000Z", ips: ["206.189.117.42", "31.209.71.86"], countries: ["GB", "NL"], networks: ["DigitalOcean, LLC", "PacketHub S.A."], clients: ["Browser"], apps: ["4765445b-32c6-49b0-83e6-1d93765276ca"], events: 40, replayed: true, new_values: 3 }),
      ],
    };
    await openDemo(page);
    await page.getByTestId("tab-accounts").click();
    await page.getByTestId("accounts-view").waitFor();
    await page.getByTestId("account-sessions").waitFor();
    assert.deepEqual(await page.getByTestId("account").evaluateAll((els) => els.map((e) => e.dataset.account)), ["adele@contoso.example", evil]);
    assert.match(await page.getByTestId("account-window").innerText(), /1,900 events · 3 networks · 4 addresses · 2 apps/);
    const origins = await page.getByTestId("account-origins").innerText();
    assert.match(origins, /DigitalOcean, LLC \(GB, NL\)/);
    assert.match(origins, /British Telecommunications PLC \(GB\)/);
    assert.equal(await page.getByTestId("session-replayed").innerText(), "Used from 2 networks");
    await page.getByTestId("account-only-marked").check();
    assert.equal(await page.getByTestId("account-session").count(), 1);
    await page.screenshot({ path: screenshotPath("accounts") });
    await page.getByTestId("session-show").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="search-input"]')?.value === 'session:"S-evil"');
    // The attacker-named account is listed as text.
    await page.getByTestId("tab-accounts").click();
    await page.locator(`[data-testid="account"][data-account="${evil}"]`).click();
    await page.getByTestId("account-name").waitFor();
    assert.equal(await page.getByTestId("account-name").innerText(), evil);
    await assertClean(app);
  });

  test("scrolling to the middle and the end shows the right rows, pages fetched in order", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const vp = page.getByTestId("timeline");
    const scrollTo = (frac) =>
      vp.evaluate((el, f) => {
        el.scrollTop = (el.scrollHeight - el.clientHeight) * f;
      }, frac);

    for (const sort of ["asc", "desc"]) {
      if (sort === "desc") {
        await page.getByTestId("sort-desc").click();
        await page.waitForFunction(() => document.querySelector('[data-testid="timeline"]').scrollTop === 0);
      }
      const expected = backend.sorted("", sort);
      await settled(page);
      assert.equal((await domRows(page))[0].id, expected[0].id);

      await scrollTo(0.5);
      await settled(page);
      let rows = await domRows(page);
      assertRows(rows, (i) => expected[i]?.id);
      const first = await firstVisibleIndex(page);
      const st = await vp.evaluate((el) => el.scrollTop);
      assert.equal(first, Math.floor(st / ROW_H), "the row at the top matches the scroll position");
      if (sort === "asc") await page.screenshot({ path: screenshotPath("scrolled-middle") });

      await scrollTo(1);
      await settled(page);
      rows = await domRows(page);
      assertRows(rows, (i) => expected[i]?.id);
      assert.equal(rows.at(-1).index, 4999);
      assert.equal(rows.at(-1).id, expected[4999].id);
      assert.ok(rows.length < 80);

      // Jump back into already-loaded blocks: nothing is fetched again.
      const before = backend.pageLog.length;
      await scrollTo(0.5);
      await settled(page);
      assertRows(await domRows(page), (i) => expected[i]?.id);
      assert.equal(backend.pageLog.length, before, "cached pages are reused");
      assertPageChain(backend.pageLog, "", sort);
    }
    await assertClean(app);
  });

  test("keyboard: / focuses search, j/k and arrows move, Home/End, Enter opens, Esc closes", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const expected = backend.sorted("", "asc");
    await page.locator('[data-testid="timeline-row"][data-index="0"]').click();
    await page.getByTestId("detail-pane").waitFor();
    const sel = async () => (await selectedRow(page))[0];
    for (const k of ["j", "j", "j"]) await page.keyboard.press(k);
    assert.deepEqual(await sel(), { index: 3, id: expected[3].id });
    await page.keyboard.press("ArrowDown");
    assert.equal((await sel()).index, 4);
    await page.keyboard.press("k");
    await page.keyboard.press("ArrowUp");
    assert.equal((await sel()).index, 2);
    // The detail pane follows the selection.
    await page.waitForFunction(
      (op) => document.querySelector('[data-testid="detail-pane"] .op')?.textContent === op,
      expected[2].operation,
    );

    // Walking past the bottom edge keeps the selection on screen.
    for (let i = 0; i < 30; i++) await page.keyboard.press("j");
    assert.equal((await sel()).index, 32);
    const box = await page.locator('[data-testid="timeline-row"][aria-selected="true"]').boundingBox();
    const vpBox = await page.getByTestId("timeline").boundingBox();
    assert.ok(box.y >= vpBox.y + HEADER_H - 1 && box.y + box.height <= vpBox.y + vpBox.height + 1, "selected row is visible");

    await page.keyboard.press("End");
    await settled(page);
    await page.waitForFunction(() => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]') !== null);
    assert.deepEqual(await sel(), { index: 4999, id: expected[4999].id });
    await page.keyboard.press("Home");
    await page.waitForFunction(() => document.querySelector('[data-testid="timeline-row"][aria-selected="true"]')?.dataset.index === "0");
    assert.equal((await sel()).id, expected[0].id);

    await page.keyboard.press("Escape");
    await page.getByTestId("detail-pane").waitFor({ state: "detached" });
    await page.keyboard.press("j");
    await page.keyboard.press("Enter");
    await page.getByTestId("detail-pane").waitFor();
    await page.waitForFunction((id) => document.querySelector('[data-testid="detail-fields"]')?.textContent.includes(id), expected[1].id);

    await page.keyboard.press("/");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "search-input");
    // Typing j in the search box types, it does not move the selection.
    await page.keyboard.type("j");
    assert.equal((await sel()).index, 1);
    assert.equal(await page.getByTestId("search-input").inputValue(), "j");
    await assertClean(app);
  });

  test("a case from a newer Tidemark shows a plain-language error banner", async () => {
    const { app, page, backend } = await setup();
    // Through "Open case…" and the open dialog…
    let openArgs;
    backend.dialogOpen = (args) => {
      openArgs = args;
      return "/cases/newer.tidemark";
    };
    await page.getByRole("button", { name: "Open case…" }).click();
    await page.getByTestId("error-banner").waitFor();
    assert.equal(await page.getByTestId("error-banner").getAttribute("data-code"), "case.newer_schema");
    assert.deepEqual(openArgs.options.filters, [{ name: "Tidemark case", extensions: ["tidemark"] }]);
    assert.equal(openArgs.options.multiple, false);
    await page.getByRole("button", { name: "Dismiss this message" }).click();
    await page.getByTestId("error-banner").waitFor({ state: "detached" });
    // …and from the recent list.
    await page.locator('[data-testid="recent-case"][data-path="/cases/newer.tidemark"]').click();
    const banner = page.getByTestId("error-banner");
    await banner.waitFor();
    assert.equal(await banner.getAttribute("data-code"), "case.newer_schema");
    const text = await banner.innerText();
    assert.match(text, /^This case was made by a newer Tidemark/);
    assert.match(text, /Install the newest Tidemark/);
    assert.ok(!/case\.newer_schema/.test(text.split("\n")[0]), "no code in the first sentence");
    assert.equal(await page.getByTestId("start-screen").count(), 1);
    await page.screenshot({ path: screenshotPath("error-newer-schema") });
    await banner.getByRole("button", { name: "Dismiss this message" }).click();
    assert.equal(await banner.count(), 0);
    await assertClean(app);
  });

  test("empty case: drop files, progress, import summary; Add files and Add folder use the dialog", async () => {
    const { app, page, backend } = await setup();
    await page.locator('[data-testid="recent-case"][data-path="/cases/empty.tidemark"]').click();
    await page.getByTestId("empty-case").waitFor();
    const emptyText = await page.getByTestId("empty-case").innerText();
    assert.match(emptyText, /Purview audit search CSV/);
    assert.match(emptyText, /\.zip and \.gz files are opened/);
    await page.screenshot({ path: screenshotPath("empty-case") });

    const paths = ["/evidence/ual-2025-12-01.jsonl", "/evidence/ual-2025-12-02.jsonl"];
    await backend.emit("tauri://drag-enter", { paths, position: { x: 400, y: 300 } });
    await backend.emit("tauri://drag-over", { position: { x: 410, y: 310 } });
    const overlay = page.getByTestId("drop-overlay");
    await overlay.waitFor();
    assert.match(await overlay.innerText(), /Drop to import 2 items/);
    await page.screenshot({ path: screenshotPath("drop-overlay") });

    let release;
    backend.importGate = new Promise((r) => (release = r));
    await backend.emit("tauri://drag-drop", { paths, position: { x: 410, y: 310 } });
    await overlay.waitFor({ state: "detached" });
    const progress = page.getByTestId("import-progress");
    await progress.waitFor();
    await page.waitForFunction(() => /5\.5 MB of 8\.0 MB/.test(document.querySelector('[data-testid="import-progress"]')?.textContent ?? ""));
    assert.match(await progress.innerText(), /Importing file 2 of 2/);
    release();

    const summary = page.getByTestId("import-summary");
    await summary.waitFor();
    assert.match(await summary.innerText(), /^Imported 2 files: 1,200 new events, 3 duplicates, 2 malformed records \(kept, see below\)/);
    assert.ok((await page.getByTestId("import-file-malformed").innerText()).includes(`Subject was ${XSS_IMG}`));
    await page.waitForFunction(() => document.querySelector('[data-testid="status-count"]')?.textContent === "1,200 events");
    await settled(page);
    assert.equal(await page.getByTestId("empty-case").count(), 0);
    assert.deepEqual(backend.calls.find((c) => c.cmd === "import_files").args, { paths });

    let importArgs;
    backend.dialogOpen = (args) => {
      importArgs = args;
      return ["/evidence/more.jsonl"];
    };
    await page.getByTestId("add-data").click();
    await page.waitForFunction(() => /^Imported 1 file:/.test(document.querySelector('[data-testid="import-summary"]')?.textContent.trim() ?? ""));
    assert.deepEqual(backend.calls.filter((c) => c.cmd === "import_files").at(-1).args, { paths: ["/evidence/more.jsonl"] });
    assert.equal(importArgs.options.multiple, true);
    assert.equal(importArgs.options.directory, false);
    assert.equal(importArgs.options.filters, undefined, "all files: formats are recognised from the content");

    // Folders: the dialog in directory mode; a folder holds two files.
    backend.dialogOpen = (args) => {
      importArgs = args;
      return ["/evidence/exports/"];
    };
    await page.getByTestId("add-folder").click();
    await page.waitForFunction(() => /^Imported 2 files:/.test(document.querySelector('[data-testid="import-summary"]')?.textContent.trim() ?? ""));
    assert.equal(importArgs.options.directory, true);
    assert.equal(importArgs.options.multiple, true);
    assert.deepEqual(backend.calls.filter((c) => c.cmd === "import_files").at(-1).args, { paths: ["/evidence/exports/"] });
    // Files in the folder that are not audit data are listed, never silently left out.
    const skipped = page.getByTestId("import-skipped");
    assert.match(await skipped.innerText(), /^1 file was not imported/);
    assert.ok((await skipped.innerText()).includes(`/evidence/exports/README.txt — not audit data: no known export format starts like this (${XSS_IMG})`));
    assert.equal(await page.getByTestId("import-skipped").count(), 1);
    await page.screenshot({ path: screenshotPath("import-folder") });
    await assertClean(app);
  });

  test("import progress panel: file, bar, rate, time left; Stop import calls import_cancel and the stop is information", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const paths = ["/evidence/Contoso export.zip", "/evidence/purview-2025-12.csv", "/evidence/ual-extra.jsonl"];
    let release;
    backend.importGate = new Promise((r) => (release = r));
    await backend.emit("tauri://drag-enter", { paths, position: { x: 400, y: 300 } });
    assert.match(await page.getByTestId("drop-overlay").innerText(), /Drop to import 3 items/);
    await backend.emit("tauri://drag-drop", { paths, position: { x: 400, y: 300 } });
    const panel = page.getByTestId("import-panel");
    await panel.waitFor();
    // The zip holds two members, so 4 files; the last progress event is for the fourth.
    await page.waitForFunction(() => /Importing file 4 of 4/.test(document.querySelector('[data-testid="import-panel"]')?.textContent ?? ""));
    assert.equal(await page.getByTestId("import-current-name").innerText(), "ual-extra.jsonl");
    assert.equal(await page.getByTestId("import-current-file").getAttribute("title"), "/evidence/ual-extra.jsonl");
    const facts = await page.getByTestId("import-facts").innerText();
    assert.match(facts, /84 %/);
    assert.match(facts, /13\.5 MB of 16\.0 MB/);
    assert.match(facts, /1,350 records so far/);
    assert.match(facts, /41,230 records\/s/);
    assert.match(facts, /about 2 min left/);
    const bar = panel.getByRole("progressbar", { name: "Import progress" });
    assert.equal(await bar.getAttribute("aria-valuenow"), "84");
    assert.equal(await page.getByTestId("add-data").isDisabled(), true);
    assert.equal(await page.getByTestId("add-folder").isDisabled(), true);
    await page.waitForTimeout(400); // the bar eases to its new width
    await page.screenshot({ path: screenshotPath("import-progress") });

    // A second drop while importing is refused.
    await backend.emit("tauri://drag-enter", { paths: ["/evidence/x.csv"], position: { x: 400, y: 300 } });
    assert.match(await page.getByTestId("drop-overlay").innerText(), /An import is already running/);
    await backend.emit("tauri://drag-leave", {});

    await page.getByTestId("import-stop").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="import-stop"]')?.disabled === true);
    assert.match(await panel.innerText(), /Stopping the import/);
    assert.equal(await page.getByTestId("import-eta").count(), 0, "no time left is promised while stopping");
    assert.ok(backend.calls.some((c) => c.cmd === "import_cancel"), "Stop import calls import_cancel");
    await page.screenshot({ path: screenshotPath("import-stopping") });
    release();

    const notice = page.getByTestId("info-notice");
    await notice.waitFor();
    assert.match(await notice.innerText(), /^Import stopped/);
    assert.match(await notice.innerText(), /The 150 records read before that are kept/);
    assert.equal(await page.getByTestId("error-banner").count(), 0, "a stop is not an error");
    assert.equal(await panel.count(), 0);
    // What was kept is in the timeline.
    await page.waitForFunction(() => document.querySelector('[data-testid="status-count"]')?.textContent === "5,150 events");
    assert.equal(await page.getByTestId("add-data").isDisabled(), false);
    await page.screenshot({ path: screenshotPath("import-stopped") });
    await assertClean(app);
  });

  test("import report: a row per file with archive members, formats, encodings, malformed locations; attacker file names stay text", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const evil = `/evidence/${XSS_IMG}.csv`;
    const paths = ["/evidence/Contoso export.zip", evil, "/evidence/ual-2025-12.jsonl.gz"];
    backend.dialogOpen = () => paths;
    await page.getByTestId("add-data").click();
    const summary = page.getByTestId("import-summary");
    await summary.waitFor();
    assert.match(await summary.innerText(), /^Imported 4 files: 1,200 new events, 3 duplicates, 2 malformed records/);
    const rows = page.getByTestId("import-file");
    assert.equal(await rows.count(), 4);

    // The archive member: its own name, the archive it came from, the detected format and the malformed locations.
    const member = page.locator('[data-testid="import-file"][data-path="/evidence/Contoso export.zip › Audit/2025-12-01.json"]');
    assert.equal(await member.getByTestId("import-file-name").innerText(), "Audit/2025-12-01.json");
    assert.match(await member.getByTestId("import-file-archive").innerText(), /in archive \/evidence\/Contoso export\.zip/);
    assert.match(await member.getByTestId("import-file-format").innerText(), /Management Activity API content blob/);
    const mal = await member.getByTestId("import-file-malformed").innerText();
    assert.match(mal, /line 17: line is not valid JSON/);
    assert.ok(mal.includes(`line 903: record has no CreationTime; Subject was ${XSS_IMG}`));
    const memberText = await member.innerText();
    assert.match(memberText, /\b3\b/);
    assert.match(memberText, /2025-12-05 06:00 – 2025-12-05 06:59 UTC/);
    assert.match(memberText, /UTF-8/);

    // The file with an attacker-looking name: shown as text, nothing became markup.
    const evilRow = page.locator(`[data-testid="import-file"][data-path="${evil.replace(/"/g, '\\"')}"]`);
    assert.equal(await evilRow.getByTestId("import-file-name").innerText(), `${XSS_IMG}.csv`);
    assert.match(await evilRow.innerText(), /Purview audit search CSV\s+UTF-16 LE/);
    // The gzip file says so.
    const gz = page.locator('[data-testid="import-file"][data-path="/evidence/ual-2025-12.jsonl.gz (gzip)"]');
    assert.equal(await gz.getByTestId("import-file-name").innerText(), "ual-2025-12.jsonl.gz");
    assert.match(await gz.innerText(), /gzip-compressed/);
    // SHA-256 in full, in monospace, selectable as one piece.
    const sha = member.getByTestId("import-file-sha");
    assert.equal(await sha.innerText(), "00ab".repeat(16));
    assert.equal(await sha.evaluate((el) => getComputedStyle(el).userSelect), "all");
    assert.equal(await page.evaluate(() => document.querySelectorAll("img, [onerror]").length), 0);
    await page.screenshot({ path: screenshotPath("import-report") });
    await assertClean(app);
  });

  test("import report stays readable with 60 files: first 10, problems first, Show all", async () => {
    const { app, page, backend } = await setup({ height: 900 });
    await openDemo(page);
    const paths = Array.from({ length: 60 }, (_, i) => `/evidence/mailboxes/user${String(i + 1).padStart(3, "0")}@contoso.example.jsonl`);
    backend.dialogOpen = () => paths;
    await page.getByTestId("add-data").click();
    await page.getByTestId("import-summary").waitFor();
    assert.equal(await page.getByTestId("import-file").count(), 10);
    // The first file had malformed records, so it stays on top.
    assert.equal(await page.getByTestId("import-file").first().getAttribute("data-path"), paths[0]);
    const more = page.getByTestId("import-show-all");
    assert.equal(await more.innerText(), "Show all 60 files (50 more)");
    await page.screenshot({ path: screenshotPath("import-report-many") });
    await more.click();
    assert.equal(await page.getByTestId("import-file").count(), 60);
    assert.equal(await page.getByTestId("import-file").last().getAttribute("data-path"), paths[59]);
    await more.click();
    assert.equal(await page.getByTestId("import-file").count(), 10);
    await assertClean(app);
  });

  test("an unknown format is shown in the error banner in the engine's words", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    const expected = Array.from({ length: 12 }, (_, i) => `Format ${i + 1}: a header with CreationDate, UserIds, Operations and AuditData columns`);
    const message = `/evidence/notes.docx is not in a format Tidemark can import. Expected one of: ${expected.join("; ")}. Nothing was imported.`;
    backend.importFiles = async () => backend.err("import.unknown_format", message);
    backend.dialogOpen = () => ["/evidence/notes.docx"];
    await page.getByTestId("add-data").click();
    const banner = page.getByTestId("error-banner");
    await banner.waitFor();
    assert.equal(await banner.getAttribute("data-code"), "import.unknown_format");
    // A long message is cut to a few lines (the advice stays in view) and opens in full on request.
    const msg = page.getByTestId("error-message");
    assert.equal(await msg.textContent(), message);
    const clamped = await msg.evaluate((el) => el.getBoundingClientRect().height);
    assert.ok(clamped < 70, `clamped to three lines (${clamped}px)`);
    assert.match(await banner.innerText(), /audit log export itself/);
    await page.screenshot({ path: screenshotPath("import-unknown-format") });
    await page.getByTestId("error-more").click();
    assert.ok((await msg.evaluate((el) => el.getBoundingClientRect().height)) > clamped);
    assert.equal(await page.getByTestId("error-more").innerText(), "Show less");
    assert.equal(await page.getByTestId("import-panel").count(), 0);
    assert.equal(await page.getByTestId("status-count").innerText(), "5,000 events");
    await assertClean(app);
  });

  test("new case: ask for a name, then the save dialog, then case_create", async () => {
    const { app, page, backend } = await setup();
    let saveArgs;
    backend.dialogSave = (args) => {
      saveArgs = args;
      return "/cases/wingtip"; // no extension: the UI adds .tidemark
    };
    await page.getByRole("button", { name: "New case…" }).click();
    const dialog = page.getByTestId("new-case-dialog");
    await dialog.waitFor();
    await page.keyboard.type("Wingtip BEC");
    await page.screenshot({ path: screenshotPath("new-case") });
    await page.keyboard.press("Enter");
    await page.getByTestId("case-view").waitFor();
    assert.deepEqual(saveArgs.options.filters, [{ name: "Tidemark case", extensions: ["tidemark"] }]);
    assert.equal(saveArgs.options.defaultPath, "Wingtip BEC.tidemark");
    assert.deepEqual(backend.calls.find((c) => c.cmd === "case_create").args, { path: "/cases/wingtip.tidemark", name: "Wingtip BEC" });
    await page.getByTestId("empty-case").waitFor();
    await page.getByTestId("close-case").click();
    await page.getByTestId("start-screen").waitFor();
    assert.ok(backend.calls.some((c) => c.cmd === "case_close"));
    await assertClean(app);
  });

  test("initial case from the command line opens at once; 1,000,000 rows scroll with a capped spacer", async () => {
    const { app, page, backend } = await setup(
      {},
      {
        appInfo: { initial_case: "/cases/huge.tidemark" },
        cases: { "/cases/huge.tidemark": { name: "Huge synthetic case", virtual: 1_000_000, events: [] } },
      },
    );
    await page.getByTestId("case-view").waitFor();
    await settled(page);
    assert.equal(await page.getByTestId("start-screen").count(), 0);
    assert.equal(await page.getByTestId("status-count").innerText(), "1,000,000 events");
    const spacer = await page.getByTestId("timeline-spacer").evaluate((el) => el.getBoundingClientRect().height);
    assert.equal(spacer, 15_000_000, "spacer is capped below the browser's height limit");

    const vp = page.getByTestId("timeline");
    const target = 150_000; // ~1 % of the scrollbar ≈ row 10,000
    await vp.evaluate((el, t) => (el.scrollTop = t), target);
    await settled(page);
    const { st, ch } = await vp.evaluate((el) => ({ st: el.scrollTop, ch: el.clientHeight }));
    const vh = ch - HEADER_H;
    const virtualTop = (st * (1_000_000 * ROW_H - vh)) / (15_000_000 - vh);
    const expectedFirst = Math.floor(virtualTop / ROW_H);
    assert.ok(expectedFirst > 9_000, `scaled: scrollTop ${st} shows row ${expectedFirst}`);
    const rows = await domRows(page);
    for (let k = 1; k < rows.length; k++) assert.equal(rows[k].index, rows[k - 1].index + 1);
    for (const r of rows) assert.equal(r.id, virtualRow(r.index).id);
    assert.equal(await firstVisibleIndex(page), expectedFirst);
    assertPageChain(backend.pageLog, "", "asc");
    // A jump is a seek to its block (plus a keyset page or two around it), not every page before it.
    assert.ok(backend.pageLog.some((p) => p.at !== undefined), "the jump used search_page_at");
    assert.ok(backend.pageLog.length <= 6, `few pages fetched (${backend.pageLog.length})`);
    await assertClean(app);
  });

  test("dark theme", async () => {
    const { app, page, backend } = await setup({ colorScheme: "dark" });
    await openDemo(page);
    const expected = backend.sorted("", "asc");
    const rule = expected.findIndex((r) => r.action === "rule");
    await page.getByTestId("search-input").fill("action:rule OR action:forwarding OR action:logon-failed");
    await page.getByTestId("search-input").press("Enter");
    await page.waitForFunction(() => !/^5,000/.test(document.querySelector('[data-testid="status-count"]')?.textContent ?? ""));
    await settled(page);
    await page.locator('[data-testid="timeline-row"][data-index="1"]').click();
    await page.getByTestId("detail-raw").waitFor();
    assert.ok(rule >= 0);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, "rgb(245, 245, 243)");
    await page.screenshot({ path: screenshotPath("dark") });
    await assertClean(app);
  });

  // ---- Case home and the mailbox activity view (fake-mailbox.mjs: the engine's answers for tests/fixtures/activities)

  async function setupMailbox(opts = {}, mailboxOpts = {}) {
    const backend = withCaseHomeAndMailbox(new FakeBackend({ events: EVENTS }), mailboxOpts);
    const app = await openApp(browser, server.url, backend, opts);
    return { backend, app, page: app.page };
  }

  const mod = "Control";

  test("case home: acquisitions with files, archives and hashes, an interrupted import, the case log newest first and verified", async () => {
    const { app, page, backend } = await setupMailbox();
    await openDemo(page);
    // The timeline is the first view; select a row so we can tell keys on other views leave it alone.
    await page.locator('[data-testid="timeline-row"][data-index="0"]').click();
    await page.keyboard.press("Escape");
    await page.keyboard.press(`${mod}+1`);
    const home = page.getByTestId("case-home");
    await home.waitFor();
    assert.equal(await page.getByTestId("tab-home").getAttribute("aria-selected"), "true");
    assert.equal(await page.getByTestId("case-view").isVisible(), false, "the timeline is hidden, not gone");
    assert.equal(await page.getByTestId("home-case-name").innerText(), "Contoso BEC (demo)");
    assert.equal(await page.getByTestId("home-case-path").innerText(), "/cases/demo.tidemark");
    assert.match(await page.getByTestId("home-span").innerText(), /^2025-12-01 08:0\d – 2025-12-0\d \d\d:\d\d UTC$/);
    assert.match(await page.getByTestId("home-facts").innerText(), /5,000\s+events/);

    // Newest acquisition first: the interrupted one says what it means and shows the engine's message.
    const acqs = page.getByTestId("acquisition");
    assert.equal(await acqs.count(), 2);
    const stopped = acqs.first();
    assert.equal(await stopped.getAttribute("data-status"), "interrupted");
    assert.equal(await stopped.getByTestId("acquisition-status").innerText(), "Interrupted");
    assert.match(await stopped.getByTestId("acquisition-note").innerText(), /The 150 records read before that are kept/);
    assert.match(await stopped.getByTestId("acquisition-error").innerText(), /The import was stopped/);
    assert.match(await stopped.getByTestId("acquisition-counts").innerText(), /150 records read · 147 new events · 3 duplicates · 2 malformed/);
    assert.match(await stopped.innerText(), /Purview audit search CSV\s+· UTF-16 LE/);
    assert.match(await stopped.innerText(), /not recorded \(the file did not finish reading\)/);
    // An attacker-looking file name is text.
    assert.ok((await stopped.getByTestId("acquired-file").innerText()).includes(`purview ${XSS_IMG}.csv`));

    const done = acqs.nth(1);
    assert.equal(await done.getByTestId("acquisition-status").innerText(), "Completed");
    assert.match(await done.innerText(), /2025-12-04 09:05:12 UTC → 2025-12-04 09:05:14 UTC · took 2\.4 s · by investigator/);
    assert.match(await done.innerText(), /Outlook Activities CSV \(CrowdStrike\/LMG retriever\) · Unified Audit Log JSONL/);
    const member = done.locator('[data-testid="acquired-file"][data-path="/evidence/adele-ual.zip › bec-adele-ual.jsonl"]');
    assert.match(await member.innerText(), /in archive \/evidence\/adele-ual\.zip/);
    assert.match(await member.innerText(), /2018-05-14 14:09 – 2018-05-14 14:22 UTC/);
    assert.equal(await member.getByTestId("acquired-file-sha").innerText(), "ddf6084d288102fdfea4390fdf6cdaa52b8ff32c00117eaffe26e212f4352f95");
    assert.match(await done.innerText(), /Archive \/evidence\/adele-ual\.zip · 2\.2 KB · SHA-256 c0ffee/);

    // The case log: newest first, chain verified, attacker text as text.
    assert.match(await page.getByTestId("log-verified").innerText(), /Log verified · 4 entries, hash chain intact/);
    const log = page.getByTestId("log-entry");
    assert.equal(await log.count(), 4);
    assert.deepEqual(await log.evaluateAll((els) => els.map((e) => e.dataset.action)), ["tag.created", "import", "import", "case.created"]);
    assert.ok((await log.first().innerText()).includes(`Tag "${XSS_IMG}" created`));
    assert.match(await log.first().innerText(), /2025-12-04 09:31:02 UTC\s+Tag created\s+by investigator/);

    // Collect… opens the Collection view (tests/collect.test.mjs follows it from there).
    const collect = page.getByTestId("home-collect");
    assert.equal(await collect.isDisabled(), false);
    assert.match(await collect.getAttribute("title"), /^Collect audit logs live from Microsoft 365/);
    assert.equal(await page.evaluate(() => document.querySelectorAll("img, [onerror]").length), 0);
    await page.screenshot({ path: screenshotPath("case-home"), fullPage: false });

    // Keys on this view never reach the hidden timeline.
    await page.getByTestId("tab-home").focus();
    for (const k of ["j", "j", "ArrowDown", "End"]) await page.keyboard.press(k);
    await page.keyboard.press(`${mod}+2`);
    await page.getByTestId("case-view").waitFor();
    assert.equal((await selectedRow(page))[0]?.index, 0, "the timeline's selection did not move");

    // A broken chain is shown as broken, with the entry and what is wrong.
    backend.mailbox.issues = [{ id: 3, problem: "its content does not match its hash (the entry was edited)" }];
    await page.getByTestId("tab-home").click();
    await page.getByTestId("log-broken").waitFor();
    assert.match(await page.getByTestId("log-issues").innerText(), /Entry #3 its content does not match its hash/);

    // Add files from the home: the dialog, then the import runs in the Timeline view with its report.
    backend.dialogOpen = () => ["/evidence/more.jsonl"];
    await page.getByTestId("home-add-files").click();
    await page.getByTestId("import-summary").waitFor();
    assert.equal(await page.getByTestId("tab-timeline").getAttribute("aria-selected"), "true");
    assert.deepEqual(backend.calls.filter((c) => c.cmd === "import_files").at(-1).args, { paths: ["/evidence/more.jsonl"] });
    await assertClean(app);
  });

  test("mailbox view: sessions, new IP, reading-pane durations, typed keystrokes, unpaired marks, detail, cursor paging; attacker text stays text", async () => {
    const { app, page, backend } = await setupMailbox();
    await openDemo(page);
    await page.getByTestId("tab-mailbox").click();
    await page.getByTestId("mailbox-intro").waitFor();
    // Suggestions from the case's mailbox and actor values (addresses only).
    const sugg = page.getByTestId("mailbox-suggestion");
    assert.deepEqual(await sugg.evaluateAll((els) => els.map((e) => e.firstElementChild.textContent)), [
      "alice@contoso.example",
      "bob@contoso.example",
      "adele.vance@contoso.example",
    ]);
    // A bad time is refused inline, in words (a day of the case as the example, the zone named).
    await page.getByTestId("mailbox-input").fill("adele.vance@contoso.example");
    await page.getByTestId("mailbox-from").fill("last tuesday");
    await page.getByTestId("mailbox-input").press("Enter");
    await page.getByTestId("mailbox-error").waitFor();
    assert.match(await page.getByTestId("mailbox-error").innerText(), /^From needs a date like 2025-12-01 or 2025-12-01 10:00 \(in UTC\); “last tuesday” is not one\.$/);
    await page.getByTestId("mailbox-from").fill("");

    backend.mailbox.maxPage = 12; // the engine pages; three pages here
    await sugg.filter({ hasText: "adele.vance@contoso.example" }).click();
    await page.getByTestId("mailbox-stream").waitFor();
    const calls = () => backend.calls.filter((c) => c.cmd === "mailbox_page");
    assert.deepEqual(calls().at(-1).args, { mailbox: "adele.vance@contoso.example", from: null, to: null, after: null, limit: 200 });
    assert.equal(await page.getByTestId("mailbox-entry").count(), 12);
    await page.getByTestId("mailbox-more").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="mailbox-entry"]').length === 24);
    await page.getByTestId("mailbox-more").click();
    await page.getByTestId("mailbox-end").waitFor();
    assert.deepEqual(calls().slice(-3).map((c) => c.args.after), [null, "m|12", "m|24"], "pages follow the engine's cursor");
    const ids = await page.getByTestId("mailbox-entry").evaluateAll((els) => els.map((e) => e.dataset.entryId));
    assert.equal(ids.length, MBX.entries.length);
    assert.equal(new Set(ids).size, ids.length, "no entry twice");
    assert.match(await page.getByTestId("mailbox-summary").innerText(), /29 entries in 8 sessions/);

    // The intruder's session: new IP, client, counts, its browser string as text.
    const sessions = page.getByTestId("mailbox-session");
    assert.equal(await sessions.count(), 8);
    const intruder = page.locator('[data-testid="mailbox-session"]', { hasText: "a7e3b9c1-52d4-4f0e-8c6b-1e2d3f4a5b6c" }).first();
    const head = await intruder.innerText();
    assert.match(head, /198\.51\.100\.77/);
    assert.match(head, /2018-05-14 14:10:00 – 14:18:00 UTC/);
    assert.ok(head.includes(XSS_SCRIPT), "the user agent is shown as typed");
    assert.match(await intruder.getByTestId("session-counts").innerText(), /18 events:\s+read 6\s+search 6\s+logon 2/);
    const firstIntruderBlock = page.locator('[data-testid="mailbox-session"]', { hasText: "198.51.100.77" }).first();
    assert.equal(await firstIntruderBlock.getByTestId("session-new-ip").count(), 1, "the attacker's IP is flagged the first time it appears");
    assert.equal(await page.getByTestId("session-new-ip").count(), 1);

    // Reading-pane durations and unpaired ends.
    const panes = await page.getByTestId("entry-pane").allInnerTexts();
    assert.ok(panes.includes("read for 1 min 30 s"));
    assert.ok(panes.includes("read for 45 s"));
    assert.ok(panes.includes("closed after 45 s"));
    assert.equal(panes.filter((t) => /^unpaired/.test(t)).length, 2);
    assert.ok(panes.some((t) => /no end recorded/.test(t)));
    assert.ok(panes.some((t) => /no start recorded/.test(t)));

    // The typed search as typed.
    const typed = page.getByTestId("entry-typed");
    assert.equal(await typed.count(), 1);
    assert.match(await typed.innerText(), /^typed\s+i\s*→\s*in\s*→\s*inv\s*→\s*invo\s*→\s*invoice$/);
    const searchEntry = page.locator('[data-testid="mailbox-entry"]', { has: typed });
    assert.match(await searchEntry.getByTestId("entry-sentence").innerText(), /^Typed a search that became “invoice”$/);

    // Sentences with subject and sender; attacker text (a formula subject, a rule name) stays text.
    const sentences = await page.getByTestId("entry-sentence").allInnerTexts();
    assert.ok(sentences.includes("Opened an attachment of “Invoice 4471 - payment due” from accounts@fabrikam.example"));
    assert.ok(sentences.includes("Replied to “Invoice 4471 - payment due” from accounts@fabrikam.example"));
    assert.ok(sentences.includes('Received “=HYPERLINK("http://pay.example/4471","Pay now")” from ceo@contoso-mail.example'));
    const rule = page.locator('[data-testid="mailbox-entry"]', { hasText: "New-InboxRule" });
    assert.ok((await rule.innerText()).includes(`Name=${XSS_IMG};`));
    assert.equal(await page.evaluate(() => document.querySelectorAll("img, script:not([src]), [onerror], [onload]").length), 0);
    // The moment that matters: the sign-in from the new IP and what followed.
    await page.getByTestId("session-new-ip").evaluate((el) => el.closest('[data-testid="mailbox-session"]').scrollIntoView({ block: "start" }));
    await page.screenshot({ path: screenshotPath("mailbox-view") });

    // Clicking an entry opens its event's detail beside the stream; arrows move to the next entry.
    const replyEntry = page.locator('[data-testid="mailbox-entry"]', { hasText: "Replied to" });
    await replyEntry.click();
    await page.getByTestId("detail-pane").waitFor();
    await page.waitForFunction(() => /Reply/.test(document.querySelector('[data-testid="detail-pane"]')?.textContent ?? ""));
    const replyId = await replyEntry.getAttribute("data-entry-id");
    assert.ok(backend.calls.some((c) => c.cmd === "event_detail" && c.args.id === replyId));
    await page.keyboard.press("ArrowDown");
    await page.waitForFunction((id) => document.activeElement?.dataset.entryId && document.activeElement.dataset.entryId !== id, replyId);
    const nextId = await page.evaluate(() => document.activeElement.dataset.entryId);
    await page.waitForFunction((id) => document.querySelector(`[data-entry-id="${id}"]`)?.getAttribute("aria-pressed") === "true", nextId);
    await page.screenshot({ path: screenshotPath("mailbox-detail") });
    await page.keyboard.press("Escape");
    await page.getByTestId("detail-pane").waitFor({ state: "detached" });
    // Esc stayed in this view: the timeline did not react.
    assert.equal(await page.getByTestId("tab-mailbox").getAttribute("aria-selected"), "true");

    // "Show in timeline": the Timeline tab, searching ±5 minutes around the entry, its details open.
    await replyEntry.click();
    const showTl = replyEntry.locator("xpath=following-sibling::button[@data-testid=\"entry-show-timeline\"]");
    assert.equal(await showTl.isVisible(), true, "shown for the selected entry");
    await page.waitForFunction(() => /Reply/.test(document.querySelector('[data-testid="detail-pane"]')?.textContent ?? ""));
    const detailCalls = () => backend.calls.filter((c) => c.cmd === "event_detail" && c.args.id === replyId).length;
    const before = detailCalls();
    await showTl.click();
    await page.waitForFunction(() => document.querySelector('[data-testid="tab-timeline"]')?.getAttribute("aria-selected") === "true");
    const replyMs = MBX.entries.find((e) => e.id === replyId).time_ms;
    const iso = (ms) => new Date(ms).toISOString();
    assert.equal(await page.getByTestId("search-input").inputValue(), `after:${iso(replyMs - 300_000)} before:${iso(replyMs + 300_000)}`);
    await page.locator('[data-testid="case-view"] [data-testid="detail-pane"]').waitFor();
    for (let i = 0; i < 50 && detailCalls() === before; i++) await page.waitForTimeout(20);
    assert.equal(detailCalls(), before + 1, "the timeline's detail pane loads the entry's event");
    await page.getByTestId("tab-mailbox").click();

    // A mailbox with nothing in it says so.
    await page.getByTestId("mailbox-input").fill("nobody@contoso.example");
    await page.getByTestId("mailbox-show").click();
    await page.getByTestId("mailbox-empty").waitFor();
    await assertClean(app);
  });

  test("mailbox reports: the five legacy reports with exactly the engine's columns, grouped reads by item, CSV through the save dialog", async () => {
    const { app, page, backend } = await setupMailbox();
    await openDemo(page);
    await page.keyboard.press(`${mod}+3`);
    await page.getByTestId("mailbox-input").fill("Adele.Vance@contoso.example");
    await page.getByTestId("mailbox-input").press("Enter");
    await page.getByTestId("mailbox-stream").waitFor();
    for (const kind of ["logons", "reads-by-time", "reads-by-item", "searches", "attachments"]) {
      await page.getByTestId(`mailbox-tab-${kind}`).click();
      const table = page.locator(`[data-testid="report-table"][data-kind="${kind}"]`);
      await table.waitFor();
      const headers = await table.locator("thead th").allInnerTexts();
      assert.deepEqual(headers, MBX.reports[kind].columns, `${kind}: Magic Unicorn's columns`);
      assert.equal(await table.getByTestId("report-row").count(), MBX.reports[kind].rows.length);
      const first = await table.getByTestId("report-row").first().locator("td").allInnerTexts();
      assert.deepEqual(first, MBX.reports[kind].rows[0].cells);
      if (kind === "reads-by-item") {
        const groups = await table.getByTestId("report-group").allInnerTexts(); // the item id alone, as Magic Unicorn writes it
        assert.deepEqual(groups, [...new Set(MBX.reports[kind].rows.map((r) => r.group))]);
        await page.screenshot({ path: screenshotPath("mailbox-reports") });
      }
    }
    const searches = await page.locator('[data-testid="mailbox-tab-searches"]').click().then(() => page.locator('[data-kind="searches"] [data-testid="report-row"] td:nth-child(4)').allInnerTexts());
    assert.deepEqual(searches, ["i", "in", "inv", "invo", "invoice", "invoice"]);

    // Export through the native save dialog and mailbox_report_csv.
    let saveArgs;
    backend.dialogSave = (args) => {
      saveArgs = args;
      return "/exports/adele-searches";
    };
    await page.getByTestId("report-export").click();
    await page.getByTestId("info-notice").waitFor();
    assert.equal(saveArgs.options.defaultPath, "Adele.Vance@contoso.example-searches.csv");
    assert.deepEqual(saveArgs.options.filters, [{ name: "CSV (spreadsheet, comma-separated)", extensions: ["csv"] }]);
    assert.deepEqual(backend.calls.find((c) => c.cmd === "mailbox_report_csv").args, {
      mailbox: "Adele.Vance@contoso.example",
      from: null,
      to: null,
      kind: "searches",
      path: "/exports/adele-searches.csv",
    });
    assert.match(await page.getByTestId("info-notice").innerText(), /Saved 6 rows to \/exports\/adele-searches\.csv \(SHA-256 5a17/);
    // Cancelling the dialog writes nothing.
    backend.dialogSave = () => null;
    await page.getByTestId("mailbox-tab-logons").click();
    await page.getByTestId("report-export").click();
    await page.waitForTimeout(100);
    assert.equal(backend.calls.filter((c) => c.cmd === "mailbox_report_csv").length, 1);
    // A row opens its event.
    await page.locator('[data-kind="logons"] [data-testid="report-row"]').nth(2).click();
    await page.getByTestId("detail-pane").waitFor();
    await assertClean(app);
  });

  test("case home and mailbox view in the dark theme", async () => {
    const { app, page } = await setupMailbox({ colorScheme: "dark" });
    await openDemo(page);
    await page.getByTestId("tab-home").click();
    await page.getByTestId("log-verified").waitFor();
    await page.screenshot({ path: screenshotPath("case-home-dark") });
    await page.getByTestId("tab-mailbox").click();
    await page.getByTestId("mailbox-input").fill("adele.vance@contoso.example");
    await page.getByTestId("mailbox-input").press("Enter");
    await page.getByTestId("mailbox-stream").waitFor();
    await page.locator('[data-testid="mailbox-session"]', { hasText: "a7e3b9c1" }).first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath("mailbox-view-dark") });
    await assertClean(app);
  });
});

// ---- Facets, detail pivots, annotations and export (side panel, detail pane, export dialog)
import { XSS_FORMULA } from "./lib/fake-backend.mjs";
import { EXPORT_COLUMNS } from "./lib/fake-workspace.mjs";

/** The demo events with attacker-looking actors and clients on some of them. */
const EVIL_EVENTS = EVENTS.map((e, i) => (i % 50 === 3 ? { ...e, row: { ...e.row, actor: XSS_IMG, client_app: XSS_FORMULA } } : e));

async function setupWs(opts = {}, backendOpts = {}) {
  const backend = new FakeBackend({ events: EVIL_EVENTS, ...backendOpts });
  const app = await openApp(browser, server.url, backend, opts);
  return { backend, app, page: app.page };
}

async function waitCount(page, backend, query) {
  const n = backend.sorted(query, "asc").length;
  const text = n === 5000 && query === "" ? "5,000 events" : `${fmt(n)} of 5,000 events`;
  await page.waitForFunction((t) => document.querySelector('[data-testid="status-count"]')?.textContent === t, text);
  return n;
}

const lastCall = (backend, cmd) => backend.calls.filter((c) => c.cmd === cmd).at(-1);

async function noMarkup(page) {
  const m = await page.evaluate(() => ({ img: document.querySelectorAll("img, [onerror], [onload], svg[onload]").length }));
  assert.equal(m.img, 0, "nothing from the data became markup");
}

describe("Facets, pivots, annotations and export", { concurrency: 2 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("facets: click filters, Alt-click excludes, more values and empty counts, stale answers dropped; attacker values are text", async () => {
    const { app, page, backend } = await setupWs();
    await openDemo(page);
    const panel = page.getByTestId("facets-panel");
    await panel.waitFor();
    const alice = 'actor:"alice@contoso.example"';
    const aliceBtn = page.locator(`[data-testid="facet"][data-field="actor"] [data-filter='${alice}']`);
    await aliceBtn.waitFor();
    const aliceCount = backend.sorted(alice, "asc").length;
    assert.match(await aliceBtn.innerText(), new RegExp(`alice@contoso\\.example\\s+${fmt(aliceCount)}`));
    // Attacker-looking values are listed as text.
    const evil = page.locator('[data-testid="facet"][data-field="actor"] [data-testid="facet-value"]', { hasText: XSS_IMG });
    assert.equal(await evil.count(), 1);
    assert.ok((await page.locator('[data-testid="facet"][data-field="client_app"]').innerText()).includes(XSS_FORMULA));
    // More values than shown, and events where the field is empty, are counted.
    assert.match(await page.locator('[data-testid="facet"][data-field="operation"] [data-testid="facet-more"]').innerText(), /^\d+ more values? \([\d,]+ events?\)$/);
    assert.match(await page.locator('[data-testid="facet"][data-field="client_app"] [data-testid="facet-empty"]').innerText(), /empty in [\d,]+ events/);

    // The first answer after a click is slow; a second click meanwhile wins.
    let release;
    const slow = new Promise((r) => (release = r));
    backend.facetsGate = (q) => (q === alice ? slow : undefined);
    await aliceBtn.click();
    assert.equal(await page.getByTestId("search-input").inputValue(), alice);
    await waitCount(page, backend, alice);
    const ipBtn = page.locator(`[data-testid="facet"][data-field="client_ip"] [data-filter='ip:"203.0.113.50"']`);
    await ipBtn.click({ modifiers: ["Alt"] });
    const both = `${alice} -ip:"203.0.113.50"`;
    assert.equal(await page.getByTestId("search-input").inputValue(), both);
    const n = await waitCount(page, backend, both);
    await page.waitForFunction((t) => document.querySelector('[data-testid="facets-panel"] .hint')?.textContent.includes(t), `${fmt(n)} matching events`);
    release();
    await page.waitForTimeout(300);
    assert.ok((await panel.locator(".hint").innerText()).includes(`${fmt(n)} matching events`), "the stale answer for the first click is dropped");
    assert.equal(lastCall(backend, "facets").args.query, both);
    // The active filters are listed above the facets (an excluded value is no longer among them), each removable.
    const active = page.getByTestId("facet-active");
    assert.deepEqual(await active.evaluateAll((els) => els.map((e) => e.textContent.trim())), ["actor: alice@contoso.example", "not ip: 203.0.113.50"]);
    assert.equal(await page.locator('[data-testid="facet"][data-field="client_ip"] [data-filter=\'ip:"203.0.113.50"\']').count(), 0);
    // Excluding a value from the exclude button works without a modifier key.
    await page.locator(`[data-testid="facet"][data-field="action"] li`).first().hover();
    const firstAction = await page.locator(`[data-testid="facet"][data-field="action"] [data-testid="facet-value"]`).first().getAttribute("data-filter");
    await page.locator(`[data-testid="facet"][data-field="action"] [data-testid="facet-exclude"]`).first().click();
    assert.equal(await page.getByTestId("search-input").inputValue(), `${both} -${firstAction}`);
    await waitCount(page, backend, `${both} -${firstAction}`);
    await noMarkup(page);
    await page.screenshot({ path: screenshotPath("facets") });
    await assertClean(app);
  });

  test("facets of a large result: an estimate first, marked as such, then the exact counts replace it", async () => {
    const { app, page, backend } = await setupWs();
    backend.facetsEstimateAbove = 5;
    let release;
    const exactDone = new Promise((r) => (release = r));
    backend.facetsExactGate = () => exactDone;
    await openDemo(page);
    const panel = page.getByTestId("facets-panel");
    const note = page.getByTestId("facet-estimate");
    await note.waitFor();
    const total = backend.sorted("", "asc").length;
    assert.match(await note.innerText(), new RegExp(`Estimated from ${fmt(Math.ceil(total / 4))} events read in evenly spread stretches of the result's time span\\. Counting every event…`));
    assert.match(await panel.locator(".hint").innerText(), /^Top values of the ≈\u202f[\d,]+ matching events/);
    const first = panel.locator('[data-testid="facet"][data-field="actor"] [data-testid="facet-value"] .count').first();
    assert.match(await first.innerText(), /^≈\u202f[\d,]+$/);
    assert.match(await panel.locator('[data-testid="facet"][data-field="actor"] .distinct').innerText(), /^\d+\+ values$/);
    await page.screenshot({ path: screenshotPath("facets-estimate") });
    // The exact counts arrive: no mark, no note.
    release();
    await note.waitFor({ state: "detached" });
    assert.match(await first.innerText(), /^[\d,]+$/);
    assert.equal(lastCall(backend, "facets").args.exact, true);
    await assertClean(app);
  });

  test("detail pane: pivots set the query (session, IP, message, user, ±N minutes); bookmark, tag and note from the detail", async () => {
    const { app, page, backend } = await setupWs();
    await openDemo(page);
    const all = backend.sorted("", "asc");
    const idx = all.findIndex((r) => r.subject === XSS_IMG);
    assert.ok(idx >= 0 && idx < 15);
    const ev = all[idx];
    await page.locator(`[data-testid="timeline-row"][data-index="${idx}"]`).click();
    await page.getByTestId("detail-raw").waitFor();
    const pivots = page.getByTestId("detail-pivots");
    await pivots.waitFor();
    assert.deepEqual(await pivots.getByTestId("pivot").evaluateAll((els) => els.map((e) => e.dataset.pivot)), ["session", "ip", "msgid", "user", "around"]);

    // Bookmark, tag (created here, with a colour) and a note on this event.
    await page.getByTestId("detail-bookmark").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="detail-bookmark"]')?.getAttribute("aria-pressed") === "true");
    assert.deepEqual(lastCall(backend, "bookmark_toggle").args, { eventId: ev.id });
    await page.getByTestId("detail-tag").click();
    await page.getByTestId("tag-new-name").fill("phishing lure");
    await page.getByTestId("tag-new-create").click();
    await page.getByTestId("detail-tags").waitFor();
    assert.equal(await page.getByTestId("detail-tags").innerText(), "phishing lure");
    assert.deepEqual(lastCall(backend, "tag_events").args, { tagId: 1, eventIds: [ev.id] });
    assert.match(lastCall(backend, "tag_create").args.color, /^#[0-9a-f]{6}$/);
    await page.getByTestId("tag-picker").getByRole("button", { name: "Close" }).click();
    await page.getByTestId("detail-add-note").click();
    await page.getByTestId("detail-note-text").fill(`Subject is a script: ${XSS_IMG}`);
    await page.getByTestId("detail-note-save").click();
    await page.getByTestId("detail-note").waitFor();
    assert.equal(await page.locator('[data-testid="detail-note"] .body').textContent(), `Subject is a script: ${XSS_IMG}`);
    assert.deepEqual(lastCall(backend, "note_create_event").args, { eventId: ev.id, body: `Subject is a script: ${XSS_IMG}` });
    await noMarkup(page);
    await page.screenshot({ path: screenshotPath("detail-pivots") });

    const input = page.getByTestId("search-input");
    const pivot = (id) => pivots.locator(`[data-pivot="${id}"]`);
    await pivot("session").click();
    assert.equal(await input.inputValue(), `session:"${ev.session_id}"`);
    await waitCount(page, backend, `session:"${ev.session_id}"`);
    await pivot("ip").click();
    assert.equal(await input.inputValue(), `ip:"${ev.client_ip}"`);
    await waitCount(page, backend, `ip:"${ev.client_ip}"`);
    await pivot("msgid").click();
    assert.equal(await input.inputValue(), `msgid:"<${ev.id}@mail.contoso.example>"`);
    await pivot("user").click();
    assert.equal(await input.inputValue(), `actor:"${ev.actor}"`);
    await waitCount(page, backend, `actor:"${ev.actor}"`);
    await page.getByTestId("pivot-minutes").selectOption("15");
    await pivot("around").click();
    const around = `after:${new Date(ev.time_ms - 900_000).toISOString()} before:${new Date(ev.time_ms + 900_000).toISOString()}`;
    assert.equal(await input.inputValue(), around);
    await waitCount(page, backend, around);
    // The open event's place in the new result is counted with a bound added (earlierQuery); the search's own count is the last other one.
    const counted = backend.calls.filter((c) => c.cmd === "search_count").map((c) => c.args.query);
    assert.equal(counted.filter((q) => !q.startsWith(`${around} `)).at(-1), around);
    assert.ok(counted.includes(`${around} before:${new Date(ev.time_ms - 1).toISOString()}`));
    await assertClean(app);
  });

  test("annotations: create tags, tag the selection and all matching events, tag: query, rename, recolour, delete with count; notes; saved searches; bookmarks", async () => {
    const { app, page, backend } = await setupWs();
    await openDemo(page);
    const input = page.getByTestId("search-input");
    await input.fill("action:rule");
    await input.press("Enter");
    const rules = await waitCount(page, backend, "action:rule");
    await settled(page);
    await page.locator('[data-testid="timeline-row"][data-index="0"]').click();
    await page.getByTestId("detail-pane").waitFor();
    const selectedId = backend.sorted("action:rule", "asc")[0].id;
    await page.getByTestId("tab-annotations").click();
    const panel = page.getByTestId("annotations-panel");
    await panel.waitFor();

    // Tag all matching events with a new tag.
    const tagAll = page.getByTestId("tag-query");
    assert.equal(await tagAll.innerText(), `Tag all ${fmt(rules)} matching events`);
    await tagAll.click();
    await panel.getByTestId("tag-new-name").fill("attacker rules");
    await panel.getByTestId("tag-new-create").click();
    await page.getByTestId("annotations-done").waitFor();
    assert.equal(await page.getByTestId("annotations-done").innerText(), `Tagged ${fmt(rules)} events “attacker rules”. The tag is now on ${fmt(rules)} events.`);
    assert.deepEqual(lastCall(backend, "tag_query").args, { tagId: 1, query: "action:rule" });
    // Tag the selected event with a second tag whose name looks like markup.
    await page.getByTestId("tag-selection").click();
    await panel.getByTestId("tag-new-name").fill(XSS_IMG);
    await panel.getByTestId("tag-new-create").click();
    await page.waitForFunction(() => /^Tagged 1 event/.test(document.querySelector('[data-testid="annotations-done"]')?.textContent ?? ""));
    assert.deepEqual(lastCall(backend, "tag_events").args, { tagId: 2, eventIds: [selectedId] });
    const items = page.getByTestId("tag-item");
    assert.equal(await items.count(), 2);
    assert.equal(await page.locator(`[data-testid="tag-item"][data-tag="${XSS_IMG}"] .tag`).textContent(), XSS_IMG);
    // The detail pane shows both tags on the selected event.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="detail-tags"] li').length === 2);

    // Click a tag: the query becomes tag:"…".
    await page.locator('[data-testid="tag-item"][data-tag="attacker rules"] [data-testid="tag-open"]').click({ position: { x: 12, y: 8 } });
    assert.equal(await input.inputValue(), 'tag:"attacker rules"');
    await waitCount(page, backend, 'tag:"attacker rules"');

    // Rename and recolour.
    // Edit and Delete show on hover (and keyboard focus).
    await page.locator('[data-testid="tag-item"][data-tag="attacker rules"]').hover();
    await page.locator('[data-testid="tag-item"][data-tag="attacker rules"] [data-testid="tag-edit"]').click();
    await page.getByTestId("tag-rename-input").fill("inbox rules");
    await page.locator('[data-testid="tag-item"] [data-testid="tag-recolor"]').nth(4).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="tag-recolor"][aria-pressed="true"]') !== null);
    assert.deepEqual(lastCall(backend, "tag_recolor").args, { tagId: 1, color: "#3b5bdb" });
    await page.getByTestId("tag-rename-input").press("Enter");
    await page.locator('[data-testid="tag-item"][data-tag="inbox rules"]').waitFor();
    assert.deepEqual(lastCall(backend, "tag_rename").args, { tagId: 1, name: "inbox rules" });
    // The search for the old name follows the rename.
    assert.equal(await input.inputValue(), 'tag:"inbox rules"');
    await waitCount(page, backend, 'tag:"inbox rules"');

    // Notes: one on a time range (attacker-looking text), edited; one on an event from the detail pane.
    await page.getByTestId("note-range-add").click();
    await page.getByTestId("note-range-start").fill("2025-12-01 08:00");
    await page.getByTestId("note-range-end").fill("2025-12-01 09:30");
    await page.getByTestId("note-range-body").fill(XSS_FORMULA);
    await page.getByTestId("note-range-save").click();
    await page.getByTestId("note-item").waitFor();
    assert.deepEqual(lastCall(backend, "note_create_range").args, { startMs: Date.UTC(2025, 11, 1, 8), endMs: Date.UTC(2025, 11, 1, 9, 30), body: XSS_FORMULA });
    assert.equal(await page.getByTestId("note-body").textContent(), XSS_FORMULA);
    assert.match(await page.getByTestId("note-item").innerText(), /2025-12-01 08:00 – 2025-12-01 09:30 UTC/);
    await page.getByTestId("note-edit").click();
    await page.getByTestId("note-edit-text").fill("Attacker signs in from 203.0.113.50 and creates the rule.");
    await page.getByTestId("note-edit-save").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="note-body"]')?.textContent.startsWith("Attacker signs in"));
    assert.match(await page.getByTestId("note-item").innerText(), /\(edited\)/);
    await page.getByTestId("detail-add-note").click();
    await page.getByTestId("detail-note-text").fill("Rule moves replies to RSS Subscriptions.");
    await page.getByTestId("detail-note-save").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="note-item"]').length === 2);
    const eventNote = page.getByTestId("note-item").nth(1);
    const rule0 = backend.sorted("action:rule", "asc")[0];
    assert.ok((await eventNote.innerText()).includes(`Event at ${rule0.time.slice(0, 19).replace("T", " ")} UTC`));

    // Saved search: save the current query, run it later.
    await page.getByTestId("saved-save").click();
    await page.getByTestId("saved-name").fill("Rules the attacker made");
    await page.getByTestId("saved-create").click();
    await page.getByTestId("saved-item").waitFor();
    assert.deepEqual(lastCall(backend, "saved_search_create").args, { name: "Rules the attacker made", query: 'tag:"inbox rules"' });

    // Bookmark from the detail; the list opens the event.
    await page.getByTestId("detail-bookmark").click();
    await page.getByTestId("bookmark-open").waitFor();
    await page.screenshot({ path: screenshotPath("annotations") });

    await input.fill("");
    await input.press("Enter");
    await waitCount(page, backend, "");
    await page.getByTestId("saved-open").click({ position: { x: 12, y: 8 } }); // the name, not the Rename/Delete shown on hover
    assert.equal(await input.inputValue(), 'tag:"inbox rules"');
    await waitCount(page, backend, 'tag:"inbox rules"');
    // Renaming the tag rewrites the saved search that names it (the engine does; the list reloads).
    await page.locator('[data-testid="tag-item"][data-tag="inbox rules"]').hover();
    await page.locator('[data-testid="tag-item"][data-tag="inbox rules"] [data-testid="tag-edit"]').click();
    await page.getByTestId("tag-rename-input").fill("attacker rules");
    await page.getByTestId("tag-rename-input").press("Enter");
    await page.waitForFunction(() => document.querySelector('[data-testid="saved-open"]')?.textContent.includes('tag:"attacker rules"'));
    assert.equal(await input.inputValue(), 'tag:"attacker rules"');
    await waitCount(page, backend, 'tag:"attacker rules"');
    await page.getByTestId("detail-pane").getByRole("button", { name: "Close details" }).click();
    await page.getByTestId("bookmark-open").click();
    await page.waitForFunction((id) => document.querySelector('[data-testid="detail-fields"]')?.textContent.includes(id), selectedId);

    // Delete a tag: the confirmation says how many events lose it.
    await page.locator(`[data-testid="tag-item"][data-tag="${XSS_IMG}"]`).hover();
    await page.locator(`[data-testid="tag-item"][data-tag="${XSS_IMG}"] [data-testid="tag-delete"]`).click();
    assert.equal(await page.getByTestId("tag-delete-count").innerText(), "1 event loses it.");
    await page.getByTestId("tag-delete-confirm").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="tag-item"]').length === 1);
    assert.match(await page.getByTestId("annotations-done").innerText(), /1 event lost it/);
    // Delete the range note.
    await page.getByTestId("note-delete").first().click();
    await page.getByTestId("note-delete-confirm").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="note-item"]').length === 1);

    // A range is typed in the display zone: the fields name it, follow a zone change, and read it.
    await page.getByTestId("note-range-add").click();
    await page.getByTestId("note-range-start").fill("2025-12-01 08:00");
    await page.getByTestId("note-range-end").fill("2025-12-01 09:30");
    assert.equal(await page.getByTestId("note-range-zone").innerText(), "in UTC");
    await page.getByTestId("zone-select").selectOption("other");
    await page.getByTestId("zone-input").fill("Asia/Kolkata");
    await page.getByTestId("zone-apply").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="note-range-zone"]')?.textContent === "in Asia/Kolkata (UTC+05:30)");
    assert.equal(await page.getByTestId("note-range-start").inputValue(), "2025-12-01 13:30", "the same moment in the new zone");
    assert.equal(await page.getByTestId("note-range-end").inputValue(), "2025-12-01 15:00");
    await page.getByTestId("note-range-end").fill("yesterday");
    await page.getByTestId("note-range-body").fill("Kolkata hours");
    await page.getByTestId("note-range-save").click();
    assert.match(await page.getByRole("alert").filter({ hasText: "yesterday" }).innerText(), /^To needs a date like .* \(in Asia\/Kolkata\); “yesterday” is not one\.$/);
    await page.getByTestId("note-range-end").fill("2025-12-01 16:00");
    assert.equal(await page.getByRole("alert").filter({ hasText: "yesterday" }).count(), 0, "the problem goes once the field changes");
    await page.screenshot({ path: screenshotPath("note-range-zone") });
    await page.getByTestId("note-range-save").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="note-item"]').length === 2);
    assert.deepEqual(lastCall(backend, "note_create_range").args, { startMs: Date.UTC(2025, 11, 1, 8), endMs: Date.UTC(2025, 11, 1, 10, 30), body: "Kolkata hours" });
    assert.ok((await page.getByTestId("note-item").allInnerTexts()).some((t) => t.includes("2025-12-01 13:30 – 2025-12-01 16:00 UTC+05:30")));
    await page.getByTestId("zone-select").selectOption("UTC");
    await noMarkup(page);
    await assertClean(app);
  });

  test("export dialog: scope, format, custom columns, zone, native save dialog, progress with cancel, files with SHA-256 and the manifest", async () => {
    const { app, page, backend } = await setupWs();
    await openDemo(page);
    const q = 'actor:"alice@contoso.example"';
    await page.getByTestId("search-input").fill(q);
    await page.getByTestId("search-input").press("Enter");
    const n = await waitCount(page, backend, q);
    await page.getByTestId("export-open").click();
    const dialog = page.getByTestId("export-dialog");
    await dialog.waitFor();
    assert.equal(await page.getByTestId("export-scope-query").isChecked(), true);
    assert.equal(await page.getByTestId("export-start").innerText(), `Export ${fmt(n)} events`);
    // The destination is prefilled beside the case file, named after the case, the scope and the day.
    const destInput = page.getByTestId("export-path");
    assert.match(await destInput.inputValue(), /^\/cases\/Contoso BEC \(demo\) – events – \d{4}-\d\d-\d\d\.csv$/);
    await page.getByTestId("export-format-xlsx").check();
    assert.match(await destInput.inputValue(), /– events – \d{4}-\d\d-\d\d\.xlsx$/, "the default follows the format");
    // A typed path in a folder that does not exist is refused in words before anything is written.
    await destInput.fill("/nowhere/alice.xlsx");
    await page.getByTestId("export-path-problem").waitFor();
    assert.match(await page.getByTestId("export-path-problem").innerText(), /The folder \/nowhere does not exist\. Create it first/);
    assert.equal(await page.getByTestId("export-start").isDisabled(), true);
    await destInput.fill("alice.xlsx");
    await page.waitForFunction(() => /not a full path/.test(document.querySelector('[data-testid="export-path-problem"]')?.textContent ?? ""));
    await page.getByTestId("export-profile").selectOption("custom");
    await page.getByTestId("export-columns").waitFor();
    await page.locator('[data-testid="export-columns"] input[data-column="folders"]').uncheck();
    await page.getByTestId("export-zone-name").fill("Mars/Olympus");
    assert.match(await page.getByTestId("export-problem").innerText(), /not a time zone/);
    assert.equal(await page.getByTestId("export-start").isDisabled(), true);
    await page.getByTestId("export-zone-name").fill("Europe/Berlin");
    assert.equal(await page.getByTestId("export-problem").count(), 0);

    // Choose… opens the native save dialog at the typed path; what it returns goes in the field.
    let saveArgs;
    backend.dialogSave = (args) => {
      saveArgs = args;
      return "/exports/alice"; // no extension: the UI adds .xlsx
    };
    await page.getByTestId("export-choose").click();
    await page.waitForFunction(() => document.querySelector('[data-testid="export-path"]')?.value === "/exports/alice.xlsx");
    await page.waitForFunction(() => document.querySelector('[data-testid="export-path-problem"]') === null);
    assert.equal(saveArgs.options.defaultPath, "alice.xlsx");
    let release;
    backend.exportGate = new Promise((r) => (release = r));
    await page.getByTestId("export-start").click();
    await page.getByTestId("export-progress").waitFor();
    const pct = Math.floor((Math.floor(n * 0.6) / n) * 100);
    await page.waitForFunction((t) => (document.querySelector('[data-testid="export-facts"]')?.textContent ?? "").startsWith(t), `${pct} %`);
    assert.match(await page.getByTestId("export-progress").innerText(), new RegExp(`Writing ${fmt(Math.floor(n * 0.6))} of ${fmt(n)} rows`));
    assert.match(await page.getByTestId("export-facts").innerText(), /12,350 rows\/s/);
    assert.deepEqual(saveArgs.options.filters, [{ name: "Excel workbook", extensions: ["xlsx"] }]);
    const req = backend.ws.exports.at(-1);
    assert.deepEqual(req, {
      scope: { kind: "query", query: q },
      format: "xlsx",
      // Custom starts from the profile shown before (full, for XLSX): every column but the one unticked.
      columns: { kind: "custom", columns: EXPORT_COLUMNS.map((c) => c.name).filter((c) => c !== "folders") },
      time_zone: "Europe/Berlin",
      path: "/exports/alice.xlsx",
    });
    await page.waitForTimeout(350);
    await page.screenshot({ path: screenshotPath("export-progress") });
    release();
    const result = page.getByTestId("export-result");
    await result.waitFor();
    assert.equal(await page.getByTestId("export-file-path").innerText(), "/exports/alice.xlsx");
    assert.equal(await page.getByTestId("export-file-sha").innerText(), "5e".repeat(32));
    assert.equal(await page.getByTestId("export-manifest-path").innerText(), "/exports/alice.xlsx.manifest.json");
    assert.equal(await page.getByTestId("export-manifest-sha").innerText(), "7d".repeat(32));
    assert.match(await result.innerText(), new RegExp(`Saved ${fmt(n)} rows`));
    assert.match(await result.innerText(), /times in Europe\/Berlin/);
    await page.screenshot({ path: screenshotPath("export") });

    // Again, bookmarked-free scope disabled; this time cancel while it runs.
    await dialog.getByRole("button", { name: "Export something else" }).click();
    // A typed name follows the format; a file already there is said before it is replaced.
    backend.existingFiles = ["/exports/alice.csv"];
    await page.getByTestId("export-format-csv").check();
    assert.equal(await page.getByTestId("export-path").inputValue(), "/exports/alice.csv");
    await page.getByTestId("export-path-replaces").waitFor();
    assert.match(await page.getByTestId("export-path-replaces").innerText(), /already there: exporting replaces it/);
    backend.exportGate = new Promise((r) => (release = r));
    await page.getByTestId("export-start").click();
    await page.getByTestId("export-cancel").click();
    for (let i = 0; i < 50 && !backend.calls.some((c) => c.cmd === "export_cancel"); i++) await page.waitForTimeout(20);
    assert.ok(backend.calls.some((c) => c.cmd === "export_cancel"));
    release();
    await page.getByTestId("export-cancelled").waitFor();
    assert.equal(await page.getByTestId("error-banner").count(), 0, "a cancel is not an error");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await assertClean(app);
  });

  test("export dialog: an HTML report above 50,000 rows is warned about; dark theme", async () => {
    const { app, page } = await setupWs(
      { colorScheme: "dark" },
      { appInfo: { initial_case: "/cases/huge.tidemark" }, cases: { "/cases/huge.tidemark": { name: "Huge synthetic case", virtual: 1_000_000, events: [] } } },
    );
    await page.getByTestId("case-view").waitFor();
    await page.getByTestId("export-open").click();
    await page.getByTestId("export-format-html").check();
    const warn = page.getByTestId("export-html-warning");
    await warn.waitFor();
    assert.match(await warn.innerText(), /1,000,000 events is too big for a browser/);
    assert.equal(await page.getByTestId("export-start").innerText(), "Export anyway: 1,000,000 events as HTML");
    assert.equal(await page.getByTestId("export-profile").inputValue(), "timeline", "HTML defaults to the timeline columns");
    await page.screenshot({ path: screenshotPath("export-html-warning-dark") });
    await page.getByTestId("export-format-csv").check();
    assert.equal(await warn.count(), 0);
    await assertClean(app);
  });
});
