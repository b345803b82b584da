// Test harness: serves ui/dist on 127.0.0.1:0 with the app's real CSP, injects the Tauri IPC mock
// before the app boots, and connects it to a FakeBackend living in the test process.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const UI = path.resolve(here, "..", "..");
const DIST = path.join(UI, "dist");
const MOCKS = path.join(UI, "node_modules", "@tauri-apps", "api", "mocks.js");
const SETUP = path.join(here, "page-setup.js");
export const SCREENSHOTS = path.resolve(UI, "..", "target", "screenshots");

function appCsp() {
  try {
    const conf = JSON.parse(fs.readFileSync(path.resolve(UI, "..", "tauri.conf.json"), "utf8"));
    const csp = conf?.app?.security?.csp;
    if (typeof csp === "string" && csp) return csp;
  } catch {
    // fall through
  }
  return "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'";
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".json": "application/json" };

export function startServer() {
  if (!fs.existsSync(path.join(DIST, "index.html")) || !fs.readdirSync(path.join(DIST)).includes("assets")) {
    throw new Error("ui/dist is missing or stale: run `npm run build` first");
  }
  const csp = appCsp();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    let file;
    if (url.pathname === "/__test/mocks.js") file = MOCKS;
    else if (url.pathname === "/__test/setup.js") file = SETUP;
    else {
      const rel = url.pathname === "/" ? "index.html" : decodeURIComponent(url.pathname).replace(/^\/+/, "");
      file = path.resolve(DIST, rel);
      if (!file.startsWith(DIST + path.sep)) file = null;
    }
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    let body = fs.readFileSync(file);
    const ext = path.extname(file);
    if (file.endsWith(path.join("dist", "index.html"))) {
      // Install the IPC mock before the app's module script (module scripts run in document order).
      body = Buffer.from(body.toString("utf8").replace(/<script type="module"/, '<script type="module" src="/__test/setup.js"></script>\n    <script type="module"'));
    }
    res.writeHead(200, { "content-type": TYPES[ext] ?? "application/octet-stream", "content-security-policy": csp, "cache-control": "no-store" });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Opens the app in a fresh context wired to `backend`. Returns the page plus collectors for
 * JS dialogs (alert() from injected markup would land here), page errors and CSP violations.
 */
export async function openApp(browser, baseUrl, backend, { colorScheme = "light", width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({
    viewport: { width, height },
    deviceScaleFactor: 1,
    locale: "en-US",
    timezoneId: "America/New_York", // the UI must show UTC whatever the machine's zone
    colorScheme,
  });
  const page = await context.newPage();
  const dialogs = [];
  const pageErrors = [];
  const consoleErrors = [];
  const requests = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("request", (r) => requests.push(r.url()));
  await page.exposeFunction("__tidemarkBackend", (cmd, args) => backend.handle(cmd, args ?? {}));
  backend.emit = (event, payload) => page.evaluate(([e, p]) => window.__tidemarkEmit(e, p), [event, payload]);
  await page.goto(baseUrl);
  await page.waitForFunction(() => window.__tidemarkMockReady === true);
  return {
    page,
    context,
    dialogs,
    pageErrors,
    consoleErrors,
    requests,
    cspViolations: () => page.evaluate(() => window.__cspViolations.slice()),
    close: () => context.close(),
  };
}

export function screenshotPath(name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `ui-${name}.png`);
}
