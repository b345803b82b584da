// The driver of scripts/bench-ui: issue 7's performance bars measured in the real app.
//
//   node scripts/bench-ui.mjs --app target/release/tidemark-app --case CASE --out FILE --shots DIR
//        [--rare TERM] [--runs 5] [--jumps 20] [--title TEXT] [--tag NAME] [--only timeline]
//
// --only timeline measures the open, jumps, wheel and fling only (no searches or facets): a quick run.
//
// Starts tauri-driver (WebKitWebDriver) with the app on the case, then measures inside the page with
// performance.now(): a scenario's clock starts in the page when the action is taken (scrollTop set,
// Enter dispatched) and stops when what it should show is in the DOM and the frame that shows it has
// been painted (the rows in the viewport are real rows for the right position or query; the facets
// panel says it shows the query). "Painted" is taken after the next animation frame's rendering
// (requestAnimationFrame, then a message posted from it runs once that frame's style, layout and paint
// are done). No WebDriver round trip is inside any figure.
//
// The backend time of each request is the IPC round trip the page sees (Tauri IPC on Linux is a fetch
// to ipc://localhost/<command>; the driver wraps window.fetch to time each one until its body is read).
// The engine alone (no IPC) comes from `tidemark-bench` on the same case (scripts/bench-ui runs it).
//
// Needs a display (the caller runs it under xvfb-run) and no npm packages: Node's fetch speaks to the
// WebDriver HTTP API.

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// ---------------------------------------------------------------- arguments
const args = { runs: 5, jumps: 20, rare: "", title: "", tag: "" };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i].replace(/^--/, "");
  args[k] = process.argv[++i];
}
for (const k of ["app", "case", "out", "shots"]) {
  if (!args[k]) {
    console.error(`bench-ui.mjs: --${k} is required`);
    process.exit(2);
  }
}
const RUNS = Math.max(1, Number(args.runs));
const JUMPS = Math.max(1, Number(args.jumps));
if (args.only !== undefined && args.only !== "timeline") {
  console.error("bench-ui.mjs: --only takes timeline");
  process.exit(2);
}
const TIMELINE_ONLY = args.only === "timeline";

// ---------------------------------------------------------------- WebDriver over HTTP
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

let base = "";
let sid = "";
async function wd(method, path, body) {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok || (j.value && j.value.error)) {
    throw new Error(`WebDriver ${method} ${path}: ${r.status} ${JSON.stringify(j.value ?? j).slice(0, 500)}`);
  }
  return j.value;
}
const sync = (script, ...a) => wd("POST", `/session/${sid}/execute/sync`, { script, args: a });
/** Runs `body` (an async function body with `B` = the page helpers and `a` = arguments) in the page. */
const page = (body, ...a) =>
  wd("POST", `/session/${sid}/execute/async`, {
    script: `const done = arguments[arguments.length - 1]; const a = Array.from(arguments).slice(0, -1);
      (async (B) => { ${body} })(window.__bench).then((v) => done({ ok: v }), (e) => done({ err: String(e && e.stack || e) }));`,
    args: a,
  }).then((r) => {
    if (r && r.err) throw new Error(`in page: ${r.err}`);
    return r ? r.ok : r;
  });

async function screenshot(name) {
  // Without compositing WebKitWebDriver takes the screenshot at the next presented frame: make frames.
  await sync(`let d = document.getElementById("bench-frames");
    if (!d) { d = document.createElement("div"); d.id = "bench-frames"; d.style.cssText = "position:fixed;right:0;bottom:0;width:1px;height:1px;pointer-events:none;opacity:0.01"; document.body.appendChild(d); }
    let n = 0; const f = () => { d.style.background = n % 2 ? "#000" : "#fff"; if (++n < 60) requestAnimationFrame(f); }; requestAnimationFrame(f); return 1;`);
  const b64 = await wd("GET", `/session/${sid}/screenshot`);
  mkdirSync(args.shots, { recursive: true });
  const f = join(args.shots, `bench-ui-${args.tag ? args.tag + "-" : ""}${name}.png`);
  writeFileSync(f, Buffer.from(b64, "base64"));
  return f;
}

// ---------------------------------------------------------------- page helpers (installed once)
const HELPERS = `
if (!window.__bench) {
  const B = (window.__bench = {});
  B.installedAt = performance.now();
  B.rowsAtInstall = document.querySelectorAll('[data-testid="timeline-row"]').length;
  const ROW = 26, HEADER = 28, MAX_SPACER = 15000000;
  B.ipc = [];
  // Every IPC request, timed until its body is read (the Tauri IPC is a fetch to ipc://localhost/cmd).
  const origFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : input && input.url ? input.url : String(input);
    if (!url.startsWith("ipc:") && !url.includes("ipc.localhost")) return origFetch(input, init);
    const rec = { cmd: decodeURIComponent(url.replace(/^.*\\//, "")), t0: performance.now(), t1: 0, body: init && init.body };
    B.ipc.push(rec);
    return origFetch(input, init).then((r) => {
      for (const m of ["json", "text", "arrayBuffer"]) {
        const f = r[m].bind(r);
        r[m] = () => f().then((v) => { rec.t1 = performance.now(); return v; });
      }
      return r;
    });
  };
  B.afterPaint = () => new Promise((res) => requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => res(performance.now());
    ch.port2.postMessage(0);
  }));
  /** Resolves with performance.now() when pred() first holds (checked on every DOM change and frame). */
  B.until = (pred, timeoutMs = 60000) => new Promise((res, rej) => {
    const t0 = performance.now();
    let done = false;
    const finish = (ok) => { if (done) return; done = true; mo.disconnect(); ok ? res(performance.now()) : rej(new Error("timeout: " + pred.toString().slice(0, 200))); };
    const mo = new MutationObserver(() => { if (pred()) finish(true); });
    mo.observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
    const tick = () => { if (done) return; if (pred()) return finish(true); if (performance.now() - t0 > timeoutMs) return finish(false); requestAnimationFrame(tick); };
    if (pred()) finish(true); else requestAnimationFrame(tick);
  });
  B.vp = () => document.querySelector('[data-testid="timeline"]');
  /** What the viewport shows: rows that intersect the body area (below the sticky header). */
  B.shown = () => {
    const vp = B.vp();
    if (!vp) return { real: 0, placeholders: 0, top: -1 };
    const r = vp.getBoundingClientRect();
    const top = r.top + HEADER, bottom = r.top + vp.clientHeight;
    let real = 0, placeholders = 0, topIndex = Infinity;
    for (const el of vp.querySelectorAll("[data-index]")) {
      const b = el.getBoundingClientRect();
      if (b.bottom <= top + 0.5 || b.top >= bottom - 0.5) continue;
      if (el.dataset.testid === "timeline-row") real++; else placeholders++;
      topIndex = Math.min(topIndex, Number(el.dataset.index));
    }
    return { real, placeholders, top: topIndex === Infinity ? -1 : topIndex };
  };
  /** The viewport shows only real rows, at least one. */
  B.full = () => { const s = B.shown(); return s.real > 0 && s.placeholders === 0; };
  B.geometry = () => {
    const vp = B.vp();
    const count = Number(vp.getAttribute("aria-rowcount"));
    const vh = Math.max(0, vp.clientHeight - HEADER);
    const content = count * ROW, spacer = Math.min(content, MAX_SPACER);
    return { count, vh, maxScroll: Math.max(0, spacer - vh), maxVirtual: Math.max(0, content - vh) };
  };
  /** The first visible row for a scrollTop, as ui/src/lib/virtual.ts maps it (scrollbar positions). */
  B.firstFor = (scrollTop) => {
    const g = B.geometry();
    const s = Math.min(Math.max(scrollTop, 0), g.maxScroll);
    const v = g.maxScroll === g.maxVirtual || g.maxScroll === 0 ? Math.min(s, g.maxVirtual) : (s * g.maxVirtual) / g.maxScroll;
    return Math.min(Math.max(Math.floor(v / ROW), 0), g.count - 1);
  };
  B.status = () => (document.querySelector('[data-testid="status-count"]') || {}).textContent || "";
  B.ipcSince = (t) => B.ipc.filter((r) => r.t0 >= t).map((r) => ({ cmd: r.cmd, ms: r.t1 ? r.t1 - r.t0 : null, start: r.t0 - t, end: r.t1 ? r.t1 - t : null }));
}
return true;`;

// ---------------------------------------------------------------- statistics and the report
function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))];
}
const f1 = (x) => (x === null || x === undefined || Number.isNaN(x) ? "–" : x < 10 ? x.toFixed(2) : x.toFixed(0));
const lines = [];
function out(s = "") {
  console.log(s);
  lines.push(s);
}
/** One table row: name, runs, p50/p95/max of the paint, backend (IPC) p50, the bar and whether it holds. */
function row(name, paint, backend, barMs, note = "") {
  const p50 = pct(paint, 0.5), p95 = pct(paint, 0.95), max = Math.max(...paint);
  const ok = barMs ? (p95 < barMs ? "ok" : "MISSED") : "";
  out(
    `${(name.length > 44 ? name.slice(0, 43) + "…" : name).padEnd(44)} ${String(paint.length).padStart(4)} ${f1(p50).padStart(8)} ${f1(p95).padStart(8)} ${f1(max).padStart(8)} ` +
      `${(backend.length ? f1(pct(backend, 0.5)) + " / " + f1(pct(backend, 0.95)) : "–").padStart(15)}  ${barMs ? ("< " + barMs).padStart(7) : "".padStart(7)} ${ok.padEnd(6)} ${note}`,
  );
}
function header(title) {
  out("");
  out(title + " — ok/MISSED: p95 against the bar");
  out(`${"scenario".padEnd(44)} ${"runs".padStart(4)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"max ms".padStart(8)} ${"IPC p50/p95 ms".padStart(15)}  ${"bar".padStart(7)} ${"".padEnd(6)} note`);
}

// ---------------------------------------------------------------- scenarios
const JUMP_SEED = 0x5eed;
function rng(seed) {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/** Sets a query the way the search box takes it (value, input, Enter) and measures. */
async function search(q) {
  return page(
    `const q = a[0];
     const input = document.querySelector('[data-testid="search-input"]');
     const before = B.status();
     input.focus();
     input.value = q;
     input.dispatchEvent(new Event("input", { bubbles: true }));
     const t0 = performance.now();
     input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
     const noMatch = () => document.querySelector('[data-testid="no-match"]') !== null;
     // Rows and facets are waited for side by side: each clock stops at its own paint.
     const rows = B.until(() => B.vp() && B.vp().dataset.query === q && ((B.full() && B.shown().top === 0) || noMatch()))
       .then(async (t) => [t, await B.afterPaint()]);
     const panel = () => document.querySelector('[data-testid="facets-panel"]');
     const facets = B.until(() => { const f = panel(); return f && f.dataset.query === q && f.getAttribute("aria-busy") === "false"; }, 120000)
       .then(async () => [await B.afterPaint(), panel().querySelector('[data-testid="facet-estimate"]') !== null]);
     // Exact facets (after an estimate) and the histogram are waited for too, so that the next run does not
     // share the cores with this one's background counting.
     const exact = facets.then(() => B.until(() => { const f = panel(); return f && f.dataset.query === q && !f.querySelector('[data-testid="facet-estimate"]'); }, 300000))
       .then(() => B.afterPaint());
     const histDone = B.until(() => B.ipcSince(t0).some((c) => c.cmd === "histogram" && c.end !== null), 300000);
     const [[tRows, painted], [facetsPainted, estimated], exactPainted] = await Promise.all([rows, facets, exact, histDone]);
     const calls = B.ipcSince(t0);
     const one = (cmd) => calls.filter((c) => c.cmd === cmd);
     const first = (cmd) => one(cmd)[0] || null;
     const counted = B.status();
     return { paint: painted - t0, dom: tRows - t0, facets: facetsPainted - t0, estimated, facetsExact: exactPainted - t0, status: counted, before,
              count: first("search_count"), page: first("search_page"), facetsIpc: first("facets"), facetsExactIpc: one("facets")[1] || null,
              histogram: first("histogram"), calls: calls.length };`,
    q,
  );
}

async function main() {
  const port = await freePort();
  const native = await freePort();
  base = `http://127.0.0.1:${port}`;
  const config = mkdtempSync(join(tmpdir(), "tidemark-bench-ui-"));
  const driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(native)], {
    env: { ...process.env, TIDEMARK_CONFIG_DIR: config },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const stop = () => {
    try {
      driver.kill("SIGTERM"); // tauri-driver stops WebKitWebDriver and the app on SIGTERM
    } catch {}
  };
  process.on("exit", () => {
    stop();
    rmSync(config, { recursive: true, force: true });
  });
  for (let i = 0; ; i++) {
    try {
      await wd("GET", "/status");
      break;
    } catch {
      if (i > 100) throw new Error("tauri-driver did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const casePath = resolve(args.case);
  const caps = { browserName: "wry", "tauri:options": { application: resolve(args.app), args: [casePath] } };
  const launched = Date.now();
  const s = await wd("POST", "/session", { capabilities: { alwaysMatch: caps }, desiredCapabilities: caps });
  sid = s.sessionId;
  await wd("POST", `/session/${sid}/timeouts`, { script: 600000 });
  await sync(HELPERS);

  out(`==== ${args.title || "Tidemark UI benchmark"}`);
  out(`case ${casePath}; app ${resolve(args.app)}; ${new Date().toISOString()}`);

  // ---- open: app start with the case as its argument -> first rows painted
  const open = await page(`
    await B.until(() => B.full(), 600000);
    const painted = await B.afterPaint();
    // The requests the open made after the driver attached (the IPC wrapper is installed then).
    const res = B.ipc.filter((r) => r.t0 <= painted).map((r) => ({ cmd: r.cmd, start: r.t0, end: r.t1 || null }));
    return { painted, timeOrigin: performance.timeOrigin, w: innerWidth, h: innerHeight, dpr: devicePixelRatio, res,
             installedAt: B.installedAt, rowsAtInstall: B.rowsAtInstall, status: B.status(), ua: navigator.userAgent };`);
  if (open.rowsAtInstall > 0) {
    // The rows were on screen before the driver could watch: the open time is only an upper bound.
    out(`NOTE: rows were already shown when the driver attached (${f1(open.installedAt)} ms after navigation start); the open time below is an upper bound`);
  }
  const caseOpen = open.res.find((r) => r.cmd === "case_open");
  const firstPage = open.res.find((r) => r.cmd === "search_page");
  out(`window ${open.w}×${open.h} CSS px (device pixel ratio ${open.dpr}); status bar: "${open.status}"`);
  await screenshot("open");

  // ---- what the webview's frames cost here (a loaded machine or software rendering shows up here first)
  const frames = await page(`
    const iv = [];
    let last = await new Promise((r) => requestAnimationFrame(r));
    for (let i = 0; i < 60; i++) { const t = await new Promise((r) => requestAnimationFrame(r)); iv.push(t - last); last = t; }
    const idle = [];
    for (let i = 0; i < 20; i++) { const t0 = performance.now(); idle.push((await B.afterPaint()) - t0); }
    const nav = performance.getEntriesByType("navigation")[0] || {};
    return { iv, idle, dcl: nav.domContentLoadedEventEnd ?? null, load: nav.loadEventEnd ?? null };`);
  // ---- the calls the open makes, again one by one (warm, nothing else running): where the open's time goes
  const openCalls = await page(`
    const inv = window.__TAURI_INTERNALS__.invoke;
    const calls = [["case_summary", {}], ["search_count", { query: "" }], ["search_page", { query: "", sort: "asc", after: null, limit: 500 }],
                   ["facets", { query: "", top: null }], ["histogram", { query: "", startMs: null, endMs: null }]];
    const out = [];
    for (const [cmd, a] of calls) { const t0 = performance.now(); await inv(cmd, a); out.push({ cmd, ms: performance.now() - t0 }); }
    return out;`);

  // ---- facets of the whole case (loaded at open; measured again from a query reset below)
  // ---- jumps: 20 scrollbar positions spread over the list (the scaled mapping above 15 M px)
  const g = await page(`return B.geometry();`);
  out(`timeline: ${g.count.toLocaleString("en")} rows, viewport ${g.vh} px of rows, scroll range ${g.maxScroll.toLocaleString("en")} px for ${g.maxVirtual.toLocaleString("en")} px of content${g.maxVirtual !== g.maxScroll ? " (scaled)" : ""}`);
  const r = rng(JUMP_SEED);
  const jumps = [];
  const jumpIpc = [];
  const jumpParts = [];
  let jumpShot = "";
  for (let i = 0; i < JUMPS; i++) {
    const frac = i === 0 ? 1 : i === 1 ? 0.5 : r();
    const j = await page(
      `const vp = B.vp();
       const target = Math.round(a[0] * B.geometry().maxScroll);
       const t0 = performance.now();
       vp.scrollTop = target;
       const actual = vp.scrollTop;
       const want = B.firstFor(actual);
       // The first frame after the scroll (loading rows, or rows already cached), for the breakdown.
       let firstFrame = null;
       requestAnimationFrame(() => { firstFrame = performance.now(); });
       const inDom = await B.until(() => { const s = B.shown(); return s.real > 0 && s.placeholders === 0 && Math.abs(s.top - want) <= 1; });
       const painted = await B.afterPaint();
       return { ms: painted - t0, dom: inDom - t0, firstFrame: firstFrame === null ? null : firstFrame - t0, want, top: B.shown().top, scrollTop: actual, ipc: B.ipcSince(t0) };`,
      frac,
    );
    jumps.push(j.ms);
    jumpParts.push(j);
    for (const c of j.ipc) if (c.ms !== null && c.cmd.startsWith("search_page")) jumpIpc.push(c.ms);
    if (i === 1) jumpShot = await screenshot("jump-middle");
    if (i === 0) await screenshot("jump-end");
  }

  // ---- wheel: steps of 3 lines (78 px) and of a page, each measured until its rows are painted
  async function wheel(steps, px) {
    return page(
      `const [steps, px] = a;
       const vp = B.vp();
       const out = [];
       const ipc = [];
       for (let i = 0; i < steps; i++) {
         const g = B.geometry();
         const scaled = g.maxScroll !== g.maxVirtual;
         const before = B.shown().top;
         const t0 = performance.now();
         if (scaled) vp.dispatchEvent(new WheelEvent("wheel", { deltaY: px, deltaMode: 0, bubbles: true, cancelable: true }));
         else vp.scrollTop = vp.scrollTop + px;
         const want = before + Math.floor(px / 26);
         await B.until(() => { const s = B.shown(); return s.real > 0 && s.placeholders === 0 && s.top >= want - 1; });
         out.push((await B.afterPaint()) - t0);
         for (const c of B.ipcSince(t0)) if (c.ms !== null) ipc.push(c.ms);
       }
       return { ms: out, ipc };`,
      steps,
      px,
    );
  }
  // Start each wheel run from a fresh place in the middle (rows there are not loaded yet).
  const jumpTo = (frac) =>
    page(`const vp = B.vp(); vp.scrollTop = Math.round(a[0] * B.geometry().maxScroll); const want = B.firstFor(vp.scrollTop);
          await B.until(() => { const s = B.shown(); return s.real > 0 && s.placeholders === 0 && Math.abs(s.top - want) <= 1; }); await B.afterPaint(); return true;`, frac);
  await jumpTo(0.3);
  const wheelSmall = await wheel(60, 78);
  await jumpTo(0.6);
  const wheelPage = await wheel(40, 650);

  // ---- fling: one wheel step of 1,300 px (50 rows) every frame for 120 frames; frames that show
  // "loading…" rows are counted, and the time until the viewport is full again after the last step.
  await jumpTo(0.8);
  const fling = await page(`
    const vp = B.vp();
    let blank = 0, frames = 0;
    const t0 = performance.now();
    for (let i = 0; i < 120; i++) {
      const g = B.geometry();
      if (g.maxScroll !== g.maxVirtual) vp.dispatchEvent(new WheelEvent("wheel", { deltaY: 1300, deltaMode: 0, bubbles: true, cancelable: true }));
      else vp.scrollTop = vp.scrollTop + 1300;
      await new Promise((r) => requestAnimationFrame(r));
      frames++;
      if (B.shown().placeholders > 0) blank++;
    }
    const tLast = performance.now();
    await B.until(() => B.full());
    const settled = (await B.afterPaint()) - tLast;
    return { frames, blank, ms: tLast - t0, settled };`);

  // ---- searches: each query RUNS times, from the whole case each time (as typed, then Enter)
  const queries = [
    ["common word", "mailitemsaccessed", "common"],
    ["rare term", args.rare, "rare"],
    ["field query", "op:New-InboxRule", "field-op"],
    ["field query (action)", "action:rule", "field-action"],
    ["prefix", "invo*", "prefix"],
    ["common prefix", "mail*", "prefix-common"],
  ].filter(([, q]) => q && !TIMELINE_ONLY);
  const searches = [];
  const everything = [];
  for (const [label, q, shot] of queries) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await search(q));
      if (i === 0) await screenshot(`search-${shot}`);
      everything.push(await search(""));
    }
    searches.push({ label, q, runs });
  }

  // ---- a screenshot of a large result's estimated facets, before the exact counts replace them
  const estimated = !TIMELINE_ONLY && await page(
    `const q = a[0];
     const input = document.querySelector('[data-testid="search-input"]');
     input.focus();
     input.value = q;
     input.dispatchEvent(new Event("input", { bubbles: true }));
     input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
     try {
       await B.until(() => document.querySelector('[data-testid="facet-estimate"]') !== null, 30000);
       await B.afterPaint();
       return true;
     } catch { return false; }`,
    "mailitemsaccessed",
  );
  if (estimated) await screenshot("facets-estimate");
  if (!TIMELINE_ONLY) {
    await page(`await B.until(() => !document.querySelector('[data-testid="facet-estimate"]'), 300000); return true;`);
    await search("");
  }

  // ---- a screenshot of the timeline in the middle of the case
  await jumpTo(0.5);
  await screenshot("timeline-middle");

  // ---------------------------------------------------------------- report
  out("");
  out(`Open (app start with the case as argument -> first rows painted)`);
  out(`  from the launch request (tauri-driver new session): ${f1(open.painted + open.timeOrigin - launched)} ms`);
  out(`  from the window's navigation start:                 ${f1(open.painted)} ms   (bar < 2000: ${open.painted < 2000 ? "ok" : "MISSED"})`);
  if (caseOpen) out(`  from the case_open request:                         ${f1(open.painted - caseOpen.start)} ms (case_open IPC ${f1(caseOpen.end - caseOpen.start)} ms)`);
  else out(`  (case_open was sent before the driver attached: the time from case_open is not known)`);
  if (firstPage) out(`  first search_page IPC: ${f1(firstPage.end - firstPage.start)} ms, answered at ${f1(firstPage.end)} ms`);
  out(`  requests seen (ms after navigation start): ${open.res.map((e) => `${e.cmd} ${f1(e.start)}→${f1(e.end)}`).join(", ") || "none"}`);
  out(`  page loaded (DOMContentLoaded ${f1(frames.dcl)} ms, load ${f1(frames.load)} ms after navigation start); the driver attached at ${f1(open.installedAt)} ms`);
  out(`  the open's requests again, one at a time (warm): ${openCalls.map((c) => `${c.cmd} ${f1(c.ms)} ms`).join(", ")}`);
  out(`Webview frames: rAF interval p50 ${f1(pct(frames.iv, 0.5))} ms, p95 ${f1(pct(frames.iv, 0.95))} ms; an idle frame (rAF -> painted) p50 ${f1(pct(frames.idle, 0.5))} ms, p95 ${f1(pct(frames.idle, 0.95))} ms`);

  header("Timeline (paint = action in the page -> the frame with the right rows painted)");
  row(`jump to a scrollbar position (${JUMPS}, random)`, jumps, jumpIpc, 100, "IPC: search_page_at / search_page in the jump");
  const part = (k) => f1(pct(jumpParts.map((j) => j[k]).filter((v) => v !== null), 0.5));
  const rowsBack = jumpParts.map((j) => Math.max(-1, ...j.ipc.filter((c) => c.cmd.startsWith("search_page") && c.end !== null).map((c) => c.end))).filter((v) => v >= 0);
  out(`  a jump's parts (p50 ms after the scroll): first frame ${part("firstFrame")}, rows answered ${f1(pct(rowsBack, 0.5))}, rows in the DOM ${part("dom")}, painted ${part("ms")}`);
  row("wheel, 3 lines (78 px) a step (60 steps)", wheelSmall.ms, wheelSmall.ipc, 100);
  row("wheel, a page (650 px) a step (40 steps)", wheelPage.ms, wheelPage.ipc, 100);
  out(`fling: ${fling.frames} steps of 1,300 px, one per frame (${f1(fling.ms)} ms): ${fling.blank} frames showed loading rows; full again ${f1(fling.settled)} ms after the last step`);

  // The UI sends the count and the first page together and paints the rows when the page answers; the
  // count fills in the status bar and the scroll height when it arrives.
  const firstPageIpc = (x) => (x.page && x.page.end !== null ? x.page.ms : NaN);
  if (TIMELINE_ONLY) {
    writeFileSync(args.out, lines.join("\n") + "\n");
    console.log(`\nresults: ${args.out} (timeline only)`);
    await wd("DELETE", `/session/${sid}`).catch(() => {});
    stop();
    return;
  }
  header(`Search (query typed, Enter -> first rows of the new query painted; ${RUNS} runs each, from the whole case)`);
  for (const s of searches) {
    const paint = s.runs.map((x) => x.paint);
    const counts = s.runs.map((x) => x.count?.ms).filter((v) => v != null);
    row(`${s.label}: ${s.q}`, paint, s.runs.map(firstPageIpc), 150, `IPC = search_page(500); count p50 ${f1(pct(counts, 0.5))} ms; ${s.runs[0].status}`);
  }
  row("back to everything (empty query)", everything.map((x) => x.paint), everything.map(firstPageIpc), 150);
  out("  first run of each query (the others hit warm caches):");
  for (const s of searches) {
    const x = s.runs[0];
    out(`    ${s.q.padEnd(34)} paint ${f1(x.paint).padStart(7)} ms; IPC search_count ${f1(x.count?.ms).padStart(7)} ms, search_page ${f1(x.page?.ms).padStart(7)} ms`);
  }

  header("Facets (query set -> facets panel shows the query's values, painted; includes the panel's 200 ms debounce)");
  for (const s of searches) {
    const est = s.runs[0].estimated ? "estimated from a sample, then exact" : "exact";
    row(`facets: ${s.q}`, s.runs.map((x) => x.facets), s.runs.map((x) => x.facetsIpc?.ms).filter((v) => v != null), 1000, `IPC = facets; ${est}`);
    if (s.runs[0].estimated) {
      row(`  exact facets: ${s.q}`, s.runs.map((x) => x.facetsExact), s.runs.map((x) => x.facetsExactIpc?.ms).filter((v) => v != null), 0, "replaces the estimate; IPC = facets(exact)");
    }
  }
  row("facets: whole case", everything.map((x) => x.facets), everything.map((x) => x.facetsIpc?.ms).filter((v) => v != null), 1000, "IPC = facets");
  header("Histogram (follows the query; not a bar, for reference)");
  for (const s of searches) row(`histogram IPC: ${s.q}`, s.runs.map((x) => x.histogram?.ms).filter((v) => v != null), [], 0);

  writeFileSync(args.out, lines.join("\n") + "\n");
  console.log(`\nresults: ${args.out}; screenshots like ${jumpShot}`);
  await wd("DELETE", `/session/${sid}`).catch(() => {});
  stop();
}

main().catch((e) => {
  console.error(`bench-ui.mjs: ${e.stack || e}`);
  process.exit(1);
});
