// Screenshots of import in the real app (real engine, real webview): tauri-driver + WebKitWebDriver
// under Xvfb. Not part of `npm test`; run by hand after `scripts/run` (or a cargo build) like this:
//
//   xvfb-run -a -s "-screen 0 1280x800x24" node ui/tests/real-app-import-shots.mjs CASE BIG_FILE EVIDENCE_DIR [UNKNOWN_FILE]
//
// CASE is an empty case (`tidemark case new`). BIG_FILE is large enough to watch the progress panel
// (it is stopped half-way with "Stop import"); EVIDENCE_DIR is a folder of mixed exports. Drops are
// simulated by emitting Tauri's own drag-drop event, which is what the window receives from the OS.
// Screenshots land in target/screenshots/app-import-*.png.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, "..", "..");
const SHOTS = path.join(ROOT, "target", "screenshots");
const APP = path.join(ROOT, "target", "debug", "tidemark-app");

const [casePath, bigFile, evidenceDir, unknownFile] = process.argv.slice(2);
if (!casePath || !bigFile || !evidenceDir) {
  console.error("usage: node real-app-import-shots.mjs CASE BIG_FILE EVIDENCE_DIR [UNKNOWN_FILE]");
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const nativePort = await freePort();
const configDir = fs.mkdtempSync("/tmp/tidemark-shots-config-");
const driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
  env: { ...process.env, TIDEMARK_CONFIG_DIR: configDir },
  stdio: ["ignore", "ignore", "inherit"],
});
const base = `http://127.0.0.1:${port}`;

async function wd(method, url, body) {
  const res = await fetch(base + url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${url}: ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

let session = null;
try {
  const deadline = Date.now() + 30_000;
  while (!session) {
    try {
      const v = await wd("POST", "/session", {
        capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application: APP, args: [casePath] } } },
      });
      session = v.sessionId;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(300);
    }
  }
  const S = `/session/${session}`;
  const exec = (script, args = []) => wd("POST", `${S}/execute/sync`, { script, args });
  async function waitFor(what, script, args = [], timeout = 60_000) {
    const end = Date.now() + timeout;
    for (;;) {
      const v = await exec(script, args);
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  }
  async function shot(name) {
    fs.mkdirSync(SHOTS, { recursive: true });
    const png = await wd("GET", `${S}/screenshot`);
    const file = path.join(SHOTS, `app-import-${name}.png`);
    fs.writeFileSync(file, Buffer.from(png, "base64"));
    console.log(file);
  }
  const drop = (paths) =>
    exec(
      `window.__TAURI_INTERNALS__.invoke("plugin:event|emit", { event: "tauri://drag-drop", payload: { paths: arguments[0], position: { x: 300, y: 300 } } }); return true;`,
      [paths],
    );
  const byTestId = (id) => `return document.querySelector('[data-testid="${id}"]') !== null;`;

  await waitFor("the case view", byTestId("case-view"));
  await sleep(500);

  // 1. A big file: the progress panel, then Stop import.
  await drop([bigFile]);
  await waitFor("the progress panel with records", `const p = document.querySelector('[data-testid="import-panel"]'); return p !== null && /[1-9][\\d,.]* records so far/.test(p.textContent);`);
  await sleep(2500);
  await shot("progress");
  const stop = await wd("POST", `${S}/element`, { using: "css selector", value: '[data-testid="import-stop"]' });
  await wd("POST", `${S}/element/${Object.values(stop)[0]}/click`, {});
  await sleep(150);
  await shot("stopping");
  await waitFor("the stop notice", byTestId("info-notice"), [], 120_000);
  await sleep(800);
  await shot("stopped");
  await exec(`document.querySelector('[data-testid="info-notice"] button')?.click(); return true;`);

  // 2. A folder of mixed exports: the report.
  await drop([evidenceDir]);
  await waitFor("the import report", byTestId("import-summary"), [], 120_000);
  await sleep(800);
  await shot("report");
  console.log(await exec(`return document.querySelector('[data-testid="import-summary"]').innerText;`));

  // 3. Something that is not an audit log.
  if (unknownFile) {
    await exec(`document.querySelector('[data-testid="import-summary"] button')?.click(); return true;`);
    await drop([unknownFile]);
    await waitFor("the error banner", byTestId("error-banner"), [], 60_000);
    await sleep(500);
    await shot("unknown-format");
    console.log(await exec(`return document.querySelector('[data-testid="error-banner"]').innerText;`));
  }
  const imgs = await exec(`return document.querySelectorAll("img, [onerror]").length;`);
  if (imgs !== 0) throw new Error(`${imgs} img/onerror elements were created from data`);
} finally {
  if (session) await wd("DELETE", `/session/${session}`).catch(() => {});
  driver.kill("SIGTERM");
  fs.rmSync(configDir, { recursive: true, force: true });
}
