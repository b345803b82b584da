// Live collection in Chromium with mocked IPC (tests/lib/fake-collect.mjs): the connect wizard (the
// simulated tenant, a real tenant with field checks and a failing preflight that says what to do),
// sign-in prompts (browser, device code), the collection screen with progress events, the coverage
// map with failed and skipped windows, stop and resume, the timeline following the collection.
// Run `npm run build` first. Screenshots: target/screenshots/ui-collect-*.png.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openApp, screenshotPath } from "./lib/harness.mjs";
import { FakeBackend, generateEvents, XSS_IMG } from "./lib/fake-backend.mjs";
import { withCollect, tenantProfile, profileView } from "./lib/fake-collect.mjs";

const EVENTS = generateEvents(5000);
let server;
let browser;

async function setup(collectOpts = {}, appOpts = {}, backendOpts = {}) {
  const backend = withCollect(new FakeBackend({ events: EVENTS, ...backendOpts }), collectOpts);
  const app = await openApp(browser, server.url, backend, appOpts);
  return { backend, app, page: app.page };
}

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
}

async function openCollection(page) {
  await page.keyboard.press("Control+4");
  await page.getByTestId("collection-view").waitFor();
}

const calls = (backend, cmd) => backend.calls.filter((c) => c.cmd === cmd);

async function waitFor(fn, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** All checks pass (the simulated tenant is set up for it). */
const ALL_OK = (pv, sources) => sources.flatMap((s) => [
  { source: s, check: "token", status: "ok", message: "Signed in.", fix: "", detail: "" },
  { source: s, check: "permission", status: "ok", message: "The permission is granted.", fix: "", detail: "" },
]);

describe("Live collection", { concurrency: 3 }, () => {
  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test("Case home's Collect… opens the wizard; the simulated tenant: method, test account, browser sign-in, checks, save", async () => {
    const { app, page, backend } = await setup({ checks: ALL_OK });
    await openDemo(page);
    await page.getByTestId("tab-home").click();
    const collectBtn = page.getByTestId("home-collect");
    assert.equal(await collectBtn.isDisabled(), false, "Collect… is enabled");
    await collectBtn.click();
    await page.getByTestId("collection-view").waitFor();
    const wizard = page.getByTestId("wizard");
    await wizard.waitFor();
    assert.equal(await page.getByTestId("tab-collection").getAttribute("aria-selected"), "true");
    assert.match(await page.getByTestId("wizard-step").innerText(), /Step 1 of 3/);
    await page.screenshot({ path: screenshotPath("collect-wizard-where") });
    // Focus stays in the dialog: Tab from the last control comes back to the first, Shift+Tab goes round.
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("data-testid"));
    assert.equal(await focused(), "wizard-where-tenant", "the choice has the focus at first");
    await page.getByTestId("wizard-next").focus();
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "wizard-close");
    await page.keyboard.press("Shift+Tab");
    assert.equal(await focused(), "wizard-next");

    await page.getByTestId("wizard-where-sim").check();
    await page.getByTestId("wizard-next").click();
    // One sentence on when to use each method.
    const browserMethod = page.locator("label.method", { has: page.getByTestId("wizard-method-browser") });
    assert.match(await browserMethod.innerText(), /Use this when you have an account in the tenant/);
    await page.getByTestId("wizard-method-browser").check();
    await page.getByTestId("wizard-sim-start").click();
    await page.getByTestId("wizard-sim-account").waitFor();
    assert.equal(await page.getByTestId("wizard-sim-user").innerText(), "investigator@contoso.sim");
    assert.equal(await page.getByTestId("wizard-sim-password").innerText(), "Tidemark-Training-1");
    assert.equal(await page.getByTestId("wizard-sim-victim").innerText(), "adele.vance@contoso.sim");
    assert.deepEqual(calls(backend, "simulated_tenant_start").map((c) => c.args), [{ method: "browser" }]);
    await page.screenshot({ path: screenshotPath("collect-wizard-sim") });

    await page.getByTestId("wizard-test").click();
    const panel = page.getByTestId("signin-panel");
    await panel.waitFor();
    assert.equal(await panel.getAttribute("data-kind"), "browser");
    assert.match(await panel.innerText(), /Finish signing in in your browser/);
    assert.match(await page.getByTestId("signin-url").innerText(), /^http:\/\/127\.0\.0\.1:43117\/contoso\.sim\/oauth2/);
    await page.screenshot({ path: screenshotPath("collect-signin-browser") });
    backend.collect.finishSignIn();
    await page.getByTestId("preflight").waitFor();
    assert.equal(await page.getByTestId("preflight-row").count(), 6);
    assert.match(await page.getByTestId("preflight-summary").innerText(), /Ready to collect: every check passed/);
    assert.equal(await page.getByTestId("wizard-save").innerText(), "Save and use this connection");
    await page.getByTestId("wizard-save").click();
    await wizard.waitFor({ state: "detached" });

    // The collection screen uses it: its sources, its default range in the display zone (UTC).
    assert.equal(await page.getByTestId("collect-profile").inputValue(), "simulated");
    await waitFor(async () => (await page.getByTestId("collect-from").inputValue()) === "2025-12-05 00:00", "the default range");
    assert.equal(await page.getByTestId("collect-to").inputValue(), "2025-12-08 00:00");
    assert.match(await page.getByTestId("collect-zone").innerText(), /UTC · 3 days/);
    for (const s of ["management", "graph", "activities"]) assert.equal(await page.getByTestId(`collect-source-${s}`).isChecked(), true);
    assert.match(await page.getByTestId("collect-profile-facts").innerText(), /contoso\.sim · Sign in with your browser · signed in · simulated tenant/);
    assert.match(await page.getByTestId("coverage-empty").innerText(), /No collection in this case yet/);
    await page.screenshot({ path: screenshotPath("collect-ready") });
    await assertClean(app);
  });

  test("a real tenant: field checks in words, certificate picker, a failing preflight with the fix, save anyway; closing unsaved removes what was tested", async () => {
    const { app, page, backend } = await setup();
    await openDemo(page);
    await openCollection(page);
    await page.getByTestId("collect-no-profile").waitFor();
    await page.getByTestId("collect-connect").click();
    await page.getByTestId("wizard-where-tenant").check();
    await page.getByTestId("wizard-next").click();
    assert.match(await page.getByTestId("wizard-step").innerText(), /Step 2 of 3 · Tenant, app and sign-in/);
    await page.waitForFunction(() => document.activeElement?.getAttribute("data-testid") === "wizard-cloud");

    // Nothing typed: every field says what it wants, nothing is saved.
    await page.getByTestId("wizard-test").click();
    assert.match(await page.getByTestId("wizard-problem-tenant").innerText(), /domain .* or its tenant ID/);
    assert.match(await page.getByTestId("wizard-problem-clientId").innerText(), /Application \(client\) ID/);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "wizard-tenant", "focus goes to the first field to fix");
    assert.equal(calls(backend, "profile_save").length, 0);
    await page.getByTestId("wizard-tenant").fill("admin@contoso.com");
    assert.match(await page.getByTestId("wizard-problem-tenant").innerText(), /part after the @ \(contoso\.com\)/);
    await page.getByTestId("wizard-tenant").fill("contoso.onmicrosoft.com");
    await page.getByTestId("wizard-client-id").fill("not-a-guid");
    assert.match(await page.getByTestId("wizard-problem-clientId").innerText(), /GUID of 36 characters/);
    await page.getByTestId("wizard-client-id").fill("0D1E2F3A-4B5C-6D7E-8F90-A1B2C3D4E5F6");

    // The secret field only for methods that have one; a password field, empty.
    assert.equal(await page.getByTestId("wizard-secret").count(), 0);
    await page.getByTestId("wizard-method-certificate").check();
    assert.equal(await page.getByTestId("wizard-secret").getAttribute("type"), "password");
    assert.match(await page.getByTestId("wizard-problem-certPath").innerText(), /Choose the certificate file/);
    backend.dialogOpen = "/keys/contoso-app.pfx";
    await page.getByTestId("wizard-cert-pick").click();
    await waitFor(async () => (await page.getByTestId("wizard-cert-path").inputValue()) === "/keys/contoso-app.pfx", "the picked file");
    const pick = calls(backend, "plugin:dialog|open").at(-1).args.options;
    assert.deepEqual(pick.filters[0].extensions, ["pem", "pfx", "p12"]);
    await page.getByTestId("wizard-method-client-secret").check();
    assert.equal(await page.getByTestId("wizard-secret").inputValue(), "", "never prefilled");
    assert.match(await page.getByTestId("wizard-problem-secret").innerText(), /client secret's value/);
    await page.getByTestId("wizard-secret").fill("s3cr3t~value");

    // The legacy source needs mailboxes.
    await page.getByTestId("wizard-source-management").check();
    await page.getByTestId("wizard-source-activities").check();
    assert.match(await page.getByTestId("wizard-problem-mailboxes").innerText(), /one mailbox at a time/);
    await page.getByTestId("wizard-mailboxes").fill("adele@contoso.com\nnot a mailbox");
    assert.match(await page.getByTestId("wizard-problem-mailboxes").innerText(), /entries are not mailbox addresses/);
    await page.getByTestId("wizard-mailboxes").fill("adele@contoso.com");
    await page.getByTestId("wizard-source-activities").uncheck();
    await page.getByTestId("wizard-name").fill("Contoso – BEC 2025");
    await page.screenshot({ path: screenshotPath("collect-wizard-tenant") });

    await page.getByTestId("wizard-test").click();
    await page.getByTestId("preflight").waitFor();
    const saved = calls(backend, "profile_save").at(-1).args;
    assert.equal(saved.secret, "s3cr3t~value");
    assert.deepEqual(saved.profile.sign_in, { method: "client-secret" });
    assert.equal(saved.profile.client_id, "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6");
    assert.deepEqual(saved.profile.sources, ["management", "graph"], "the engine's order");
    assert.equal(saved.profile.id, "contoso-bec-2025");
    assert.deepEqual(calls(backend, "preflight").at(-1).args, { profileId: "contoso-bec-2025", sources: null });

    // The failing check: a word and a symbol, the message, and what to do. Server text stays text.
    const fail = page.locator('[data-testid="preflight-row"][data-status="fail"]');
    assert.equal(await fail.count(), 1);
    assert.equal(await fail.getAttribute("data-source"), "graph");
    const failText = await fail.innerText();
    assert.match(failText, /Problem/);
    assert.match(failText, /Permission/);
    assert.match(await fail.getByTestId("preflight-fix").innerText(), /^What to do: Ask a Global Administrator to grant AuditLogsQuery\.Read\.All/);
    // What the server answered is folded away, and text when opened.
    const detail = fail.getByTestId("preflight-detail");
    assert.equal(await detail.getAttribute("open"), null);
    await detail.locator("summary").click();
    assert.ok((await detail.innerText()).includes(`Insufficient privileges ${XSS_IMG}`), "server text is shown as text");
    assert.match(await page.locator('[data-testid="preflight-row"][data-status="warn"]').innerText(), /Warning/);
    assert.match(await page.getByTestId("preflight-summary").innerText(), /Graph audit log query cannot be collected until its problem is fixed.*1 other source is ready/);
    assert.equal(await page.getByTestId("wizard-save").innerText(), "Save anyway");
    await page.screenshot({ path: screenshotPath("collect-wizard-preflight") });

    // Back to the form keeps what was typed (except nothing is lost); testing again saves the same profile.
    await page.getByTestId("wizard-back").click();
    assert.equal(await page.getByTestId("wizard-tenant").inputValue(), "contoso.onmicrosoft.com");
    await page.getByTestId("wizard-test").click();
    await page.getByTestId("preflight").waitFor();
    assert.deepEqual(new Set(calls(backend, "profile_save").map((c) => c.args.profile.id)), new Set(["contoso-bec-2025"]));

    // Esc closes without saving: the tested connection goes again.
    await page.keyboard.press("Escape");
    await page.getByTestId("wizard").waitFor({ state: "detached" });
    await waitFor(() => calls(backend, "profile_remove").length === 1, "profile_remove");
    assert.deepEqual(calls(backend, "profile_remove")[0].args, { id: "contoso-bec-2025" });
    await page.getByTestId("collect-no-profile").waitFor();

    // Again, and this time save it anyway.
    await page.getByTestId("collect-connect").click();
    await page.getByTestId("wizard-next").click();
    await page.getByTestId("wizard-tenant").fill("72f988bf-86f1-41af-91ab-2d7cd011db47");
    await page.getByTestId("wizard-client-id").fill("0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6");
    await page.getByTestId("wizard-test").click();
    await page.getByTestId("signin-panel").waitFor(); // browser sign-in (the default method)
    backend.collect.finishSignIn();
    await page.getByTestId("preflight").waitFor();
    await page.getByTestId("wizard-save").click();
    await page.getByTestId("wizard").waitFor({ state: "detached" });
    assert.equal(calls(backend, "profile_remove").length, 1, "a saved connection stays");
    await waitFor(async () => (await page.getByTestId("collect-profile").inputValue()) !== "", "the profile in the picker");

    // Saved connections are listed in the wizard: remove asks first.
    await page.getByTestId("collect-connect").click();
    const row = page.getByTestId("wizard-profile");
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /72f988bf-86f1-41af-91ab-2d7cd011db47 · Sign in with your browser · Graph audit log query/);
    await page.screenshot({ path: screenshotPath("collect-wizard-saved") });
    await row.getByTestId("wizard-profile-remove").click();
    assert.match(await row.innerText(), /Remove it\?/);
    await row.getByTestId("wizard-profile-remove-confirm").click();
    await waitFor(async () => (await page.getByTestId("wizard-profile").count()) === 0, "the removed profile");

    // The shortcut sheet lists the new view.
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+2");
    await page.getByTestId("timeline").click();
    await page.keyboard.press("?");
    assert.match(await page.getByTestId("shortcuts").innerText(), /Ctrl\+4\s+Go to Collection/);
    await assertClean(app);
  });

  test("a saved connection is edited: the form shows it, the kept secret stays unless replaced, closing untested edits puts it back", async () => {
    const saved = { ...tenantProfile({ options: { window_hours: 6 }, endpoints: { login: "https://login.example", management: null, graph: null, outlook: null } }), has_secret: true };
    const { app, page, backend } = await setup({ profiles: [saved] });
    await openDemo(page);
    await openCollection(page);
    assert.equal(await page.getByTestId("collect-connect").innerText(), "Connections…");
    await page.getByTestId("collect-connect").click();
    const row = page.getByTestId("wizard-profile");
    await row.getByTestId("wizard-profile-edit").click();
    assert.equal(await page.locator("#wizard-title").innerText(), "Edit “Contoso – BEC 2025”");
    assert.equal(await page.getByTestId("wizard-tenant").inputValue(), "contoso.onmicrosoft.com");
    assert.equal(await page.getByTestId("wizard-client-id").inputValue(), "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6");
    assert.equal(await page.getByTestId("wizard-name").inputValue(), "Contoso – BEC 2025");
    assert.ok(await page.getByTestId("wizard-method-client-secret").isChecked());
    assert.ok(await page.getByTestId("wizard-source-management").isChecked());
    assert.ok(!(await page.getByTestId("wizard-source-activities").isChecked()));
    assert.equal(await page.getByTestId("wizard-secret").inputValue(), "", "a secret is never shown again");
    assert.match(await page.getByTestId("wizard-secret-hint").innerText(), /Leave this empty to keep it/);
    await page.screenshot({ path: screenshotPath("collect-wizard-edit") });

    // Another app registration, the secret kept: saved under the same id, no secret sent, the rest kept.
    await page.getByTestId("wizard-client-id").fill("11111111-2222-3333-4444-555555555555");
    await page.getByTestId("wizard-test").click();
    await page.getByTestId("preflight").waitFor();
    let sent = calls(backend, "profile_save").at(-1).args;
    assert.equal(sent.secret, null, "an empty field keeps the saved secret");
    assert.equal(sent.profile.id, "contoso");
    assert.equal(sent.profile.client_id, "11111111-2222-3333-4444-555555555555");
    assert.equal(sent.profile.options.window_hours, 6, "options the form does not show are kept");
    assert.equal(sent.profile.endpoints.login, "https://login.example");
    assert.deepEqual(calls(backend, "preflight").at(-1).args, { profileId: "contoso", sources: null });

    // Esc without "Save": the connection gets its saved fields back, and is not removed.
    await page.keyboard.press("Escape");
    await page.getByTestId("wizard").waitFor({ state: "detached" });
    await waitFor(() => calls(backend, "profile_save").length === 2, "the restoring profile_save");
    sent = calls(backend, "profile_save").at(-1).args;
    assert.deepEqual(sent, { profile: saved.profile, secret: null });
    assert.equal(calls(backend, "profile_remove").length, 0);

    // Edit again, a switch to the certificate needs a file; Back to the list ends the edit without saving.
    await page.getByTestId("collect-connect").click();
    await row.getByTestId("wizard-profile-edit").click();
    await page.getByTestId("wizard-method-certificate").check();
    assert.match(await page.getByTestId("wizard-problem-certPath").innerText(), /Choose the certificate file/);
    await page.getByTestId("wizard-back").click();
    assert.equal(await page.locator("#wizard-title").innerText(), "Connect to Microsoft 365");
    assert.equal(calls(backend, "profile_save").length, 2, "nothing saved");

    // A new secret replaces the kept one; "Save without testing" keeps the edit.
    await row.getByTestId("wizard-profile-edit").click();
    await page.getByTestId("wizard-secret").fill("n3w~secret");
    await page.getByTestId("wizard-name").fill("Contoso – secret rotated");
    await page.getByTestId("wizard-save-untested").click();
    await page.getByTestId("wizard").waitFor({ state: "detached" });
    sent = calls(backend, "profile_save").at(-1).args;
    assert.equal(sent.secret, "n3w~secret");
    assert.equal(sent.profile.display_name, "Contoso – secret rotated");
    assert.equal(calls(backend, "profile_save").length, 3, "a confirmed edit is not put back");
    await waitFor(async () => (await page.getByTestId("collect-profile").locator("option").first().innerText()) === "Contoso – secret rotated", "the renamed connection in the picker");

    // The simulated tenant's connection is made by Tidemark: it has no Edit.
    await page.getByTestId("collect-connect").click();
    await page.getByTestId("wizard-where-sim").check();
    await page.getByTestId("wizard-next").click();
    await page.getByTestId("wizard-sim-start").click();
    await page.getByTestId("wizard-sim-account").waitFor();
    await page.getByTestId("wizard-back").click();
    const sim = page.locator('[data-testid="wizard-profile"][data-id="simulated"]');
    await sim.waitFor();
    assert.equal(await sim.getByTestId("wizard-profile-edit").count(), 0);
    assert.equal(await page.locator('[data-testid="wizard-profile"][data-id="contoso"]').getByTestId("wizard-profile-edit").count(), 1);
    await page.keyboard.press("Escape");
    await assertClean(app);
  });

  test("device code: the big code with Copy, the address, Microsoft's sentence as text; Cancel", async () => {
    const dc = profileView({ ...tenantProfile().profile, id: "dc", display_name: "Fabrikam (device code)", tenant: "fabrikam.onmicrosoft.com", sign_in: { method: "device-code" } });
    const { app, page, backend } = await setup({ profiles: [dc] });
    await app.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
    await openDemo(page);
    await openCollection(page);
    await page.getByTestId("collect-test").click();
    const panel = page.getByTestId("signin-panel");
    await panel.waitFor();
    assert.equal(await panel.getAttribute("data-kind"), "device-code");
    assert.equal(await page.getByTestId("signin-code").innerText(), "GZ7K3LQ8P");
    assert.equal(await page.getByTestId("signin-url").innerText(), "https://microsoft.com/devicelogin");
    assert.ok((await page.getByTestId("signin-message").innerText()).includes(XSS_IMG), "Microsoft's sentence is text");
    const size = await page.getByTestId("signin-code").evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(size >= 24, `the code is big (${size}px)`);
    await page.getByTestId("signin-copy-code").click();
    await waitFor(async () => /Copied|Selected/.test(await page.getByTestId("signin-copy-code").innerText()), "the copy answer");
    if (/Copied/.test(await page.getByTestId("signin-copy-code").innerText())) {
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "GZ7K3LQ8P");
    }
    await page.screenshot({ path: screenshotPath("collect-device-code") });
    await page.getByTestId("signin-cancel").click();
    await panel.waitFor({ state: "detached" });
    assert.equal(calls(backend, "sign_in_cancel").length, 1);
    assert.equal(await page.getByTestId("error-banner").count(), 0, "a cancelled sign-in is not an error");
    await assertClean(app);
  });

  test("a collection: progress (whole run, per source, current window, rate, time left), the timeline follows, coverage with failed and skipped windows, details, resume", async () => {
    const { app, page, backend } = await setup({
      profiles: [tenantProfile()],
      fail: (w, attempt) => w.source === "graph" && w.start.startsWith("2025-12-02") && attempt === 1,
      gapWindow: (w) => w.source === "graph" && w.start.startsWith("2025-12-04"),
    });
    await openDemo(page);
    await openCollection(page);
    await waitFor(async () => (await page.getByTestId("collect-from").inputValue()) === "2025-12-05 00:00", "the default range");
    // Older than the Management API keeps: that part will be a skipped window.
    await page.getByTestId("collect-from").fill("2025-11-28 00:00");
    await page.getByTestId("collect-to").fill("2025-12-05");
    assert.match(await page.getByTestId("collect-zone").innerText(), /7 days/);
    assert.equal(await page.getByTestId("collect-start").innerText(), "Start collection from 2 sources");
    const countsBefore = calls(backend, "search_count").length;

    const hold = backend.collect.holdNext();
    void hold;
    await page.getByTestId("collect-start").click();
    await page.getByTestId("collect-progress").waitFor();
    assert.deepEqual(calls(backend, "collect_start")[0].args, {
      profileId: "contoso",
      fromMs: Date.UTC(2025, 10, 28),
      toMs: Date.UTC(2025, 11, 5),
      sources: ["management", "graph"],
    });
    // Let three windows through, then look at the screen mid-run.
    backend.collect.release();
    backend.collect.holdNext(6);
    await waitFor(async () => /records received/.test(await page.getByTestId("collect-facts").innerText().catch(() => "")), "progress facts");
    await waitFor(async () => (await page.getByTestId("collect-source-progress").count()) === 2, "per-source bars");
    // Finished windows turn green during the run; one window is being read.
    await waitFor(async () => (await page.locator('[data-testid="coverage-cell"][data-status="done"]').count()) >= 2, "finished windows on the map");
    await waitFor(async () => (await page.locator('[data-testid="coverage-cell"][data-status="running"]').count()) === 1, "one window being read");
    const facts = await page.getByTestId("collect-facts").innerText();
    assert.match(facts, /\d+ %/);
    assert.match(facts, /records received/);
    assert.match(facts, /410 records\/s/);
    assert.match(await page.getByTestId("collect-eta").innerText(), /left$/);
    assert.match(await page.getByTestId("collect-window").innerText(), /Now reading/);
    await page.screenshot({ path: screenshotPath("collect-progress") });
    backend.collect.release();

    await page.getByTestId("collect-report").waitFor();
    await page.getByTestId("collect-progress").waitFor({ state: "detached" });
    // The range typed stays (written the way the fields show times).
    assert.equal(await page.getByTestId("collect-from").inputValue(), "2025-11-28 00:00");
    assert.equal(await page.getByTestId("collect-to").inputValue(), "2025-12-05 00:00");
    // The timeline was refreshed during the run, but not after every page (2 s throttle), and once at the end.
    const refreshes = calls(backend, "search_count").length - countsBefore;
    assert.ok(refreshes >= 1 && refreshes <= 6, `the timeline refreshed a few times (${refreshes})`);

    // The map: management (a skipped window, then days) and graph (days, one failed, one with a gap).
    await waitFor(async () => (await page.locator('[data-testid="coverage-cell"][data-status="failed"]').count()) === 1, "the failed cell");
    assert.equal(await page.getByTestId("coverage-row").count(), 2);
    assert.equal(await page.locator('[data-testid="coverage-cell"][data-status="skipped"]').count(), 1);
    assert.ok((await page.locator('[data-testid="coverage-cell"][data-status="done"]').count()) >= 10);
    assert.equal(await page.locator('[data-testid="coverage-cell"].gap').count(), 2, "the window with a missing record and the one with an unreadable record");
    const summary = await page.getByTestId("coverage-summary").innerText();
    assert.match(summary, /1 window failed: events in it may be missing from the case\. Resume the collection to try again\./);
    assert.match(summary, /1 window was skipped/);
    assert.match(summary, /2 collected windows have a gap/);
    // The legend says it in words.
    const legend = await page.getByTestId("coverage-legend").innerText();
    for (const w of ["Collected", "Collecting now", "Not collected yet", "Failed", "Skipped", "Collected, with a gap"]) assert.ok(legend.includes(w), w);

    // Hover: where, when, counts.
    const skipped = page.locator('[data-testid="coverage-cell"][data-status="skipped"]');
    assert.match(await skipped.getAttribute("aria-label"), /^Management Activity API · Audit\.Exchange, 2025-11-28 00:00 – 2025-12-01 12:00 UTC: Skipped$/);
    await skipped.hover();
    assert.match(await page.getByTestId("coverage-hover").innerText(), /Skipped/);

    // Click the failed window: what went wrong, in words, with the server's text as text.
    const failed = page.locator('[data-testid="coverage-cell"][data-status="failed"]');
    await failed.click();
    const detail = page.getByTestId("coverage-detail");
    await detail.waitFor();
    assert.equal(await page.getByTestId("coverage-detail-status").innerText(), "Failed");
    assert.match(await page.getByTestId("coverage-detail-span").innerText(), /^2025-12-02 00:00 – 2025-12-03 00:00 UTC$/);
    const spots = await page.getByTestId("coverage-blind-spots").innerText();
    assert.match(spots, /The audit log query failed on Microsoft's side three times/);
    assert.ok(spots.includes(XSS_IMG));
    assert.match(spots, /\(collect\.query_failed\)/);
    assert.match(await page.getByTestId("coverage-faults").innerText(), /failed on Microsoft's side and was started again \(3 times\)/);
    await page.screenshot({ path: screenshotPath("collect-coverage") });

    // Keyboard: arrows move between cells, Enter opens the details.
    await failed.focus();
    await page.keyboard.press("ArrowRight");
    const focusedStatus = await page.evaluate(() => document.activeElement?.getAttribute("data-status"));
    assert.equal(focusedStatus, "done");
    await page.keyboard.press("Enter");
    assert.equal(await page.getByTestId("coverage-detail-status").innerText(), "Collected");
    assert.match(await page.getByTestId("coverage-detail-counts").innerText(), /The server listed\s+\d+/);
    // The gap window says what is missing.
    await page.locator('[data-testid="coverage-cell"].gap[data-window-id]').last().click();
    assert.match(await page.getByTestId("coverage-blind-spots").innerText(), /^The server reported 230 records, 223 were received\.$/);
    await page.keyboard.press("Escape");

    // The run list, and Resume retries the failed window.
    assert.match(await page.getByTestId("collect-run").innerText(), /#1\s+Stopped before the end\s+Contoso – BEC 2025/);
    await page.getByTestId("collect-resume").click();
    await waitFor(async () => (await page.locator('[data-testid="coverage-cell"][data-status="failed"]').count()) === 0, "the retried window");
    await waitFor(async () => /Completed/.test(await page.getByTestId("collect-run").innerText()), "the run completed");
    assert.equal(calls(backend, "collect_resume").length, 1);
    assert.equal(await page.getByTestId("collect-resume").count(), 0, "nothing left to resume");

    // The events are in the timeline.
    await page.keyboard.press("Control+2");
    const total = backend.current.events.length;
    assert.ok(total > 5000);
    await waitFor(async () => (await page.getByTestId("status-count").innerText()) === `${total.toLocaleString("en-US")} events`, "the new total in the timeline");
    await assertClean(app);
  });

  test("stop and resume; while someone reads an event the timeline offers the new events instead of jumping", async () => {
    const { app, page, backend } = await setup({ profiles: [tenantProfile({ sources: ["graph"] })], pagesPerWindow: 3 });
    await openDemo(page);
    await openCollection(page);
    await waitFor(async () => (await page.getByTestId("collect-from").inputValue()) !== "", "the default range");
    backend.collect.holdNext(1);
    await page.getByTestId("collect-start").click();
    await page.getByTestId("collect-progress").waitFor();
    await waitFor(async () => (await page.getByTestId("collect-facts").count()) === 1, "the first page");
    await page.getByTestId("collect-stop").click();
    await waitFor(() => calls(backend, "collect_cancel").length === 1, "collect_cancel");
    const stopped = page.getByTestId("collect-stopped");
    await stopped.waitFor();
    assert.match(await stopped.innerText(), /The collection was stopped\. What was collected so far is in the case; Resume continues where it stopped\./);
    assert.equal(await page.getByTestId("error-banner").count(), 0, "a stop is not an error");
    await page.getByTestId("collect-resume-note").waitFor();
    assert.ok((await page.locator('[data-testid="coverage-cell"][data-status="planned"]').count()) >= 1);
    assert.match(await page.getByTestId("coverage-summary").innerText(), /not collected yet\. Resume the collection to read/);
    await page.screenshot({ path: screenshotPath("collect-stopped") });

    // Resume, and meanwhile read an event in the timeline.
    backend.collect.holdNext(1);
    await page.getByTestId("collect-resume-note").click();
    await waitFor(() => calls(backend, "collect_resume").length === 1, "collect_resume");
    await page.keyboard.press("Control+2");
    await page.locator('[data-testid="timeline-row"][data-index="3"]').click();
    await page.getByTestId("detail-raw").waitFor();
    const before = await page.getByTestId("status-count").innerText();
    backend.collect.release();
    await page.getByTestId("live-new-events").waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId("status-count").innerText(), before, "the list did not jump under the reader");
    assert.equal(await page.locator('[data-testid="timeline-row"][aria-selected="true"]').count(), 1);
    await page.screenshot({ path: screenshotPath("collect-timeline-new-events") });
    await waitFor(() => !backend.collect.running, "the end of the collection");
    await page.getByTestId("live-show").click();
    const total = backend.current.events.length;
    await waitFor(async () => (await page.getByTestId("status-count").innerText()) === `${total.toLocaleString("en-US")} events`, "the new total");
    await page.keyboard.press("Control+4");
    await waitFor(async () => /Completed/.test(await page.getByTestId("collect-run").innerText()), "the run completed");
    await assertClean(app);
  });

  test("an empty case offers collection; the simulated tenant's collection fills the timeline", async () => {
    const { app, page, backend } = await setup({ checks: ALL_OK }, {}, { appInfo: { initial_case: "/cases/empty.tidemark" } });
    await page.getByTestId("empty-case").waitFor();
    await page.getByTestId("empty-collect").click();
    await page.getByTestId("wizard").waitFor();
    assert.equal(await page.getByTestId("tab-collection").getAttribute("aria-selected"), "true");
    await page.getByTestId("wizard-where-sim").check();
    await page.getByTestId("wizard-next").click();
    await page.getByTestId("wizard-method-client-secret").check();
    await page.getByTestId("wizard-sim-start").click();
    await page.getByTestId("wizard-sim-account").waitFor();
    assert.match(await page.getByTestId("wizard-sim-account").innerText(), /signs in as an app/);
    await page.getByTestId("wizard-sim-use").click();
    await page.getByTestId("wizard").waitFor({ state: "detached" });
    await waitFor(async () => (await page.getByTestId("collect-from").inputValue()) !== "", "the default range");
    await page.getByTestId("collect-start").click();
    await page.getByTestId("collect-report").waitFor();
    assert.match(await page.getByTestId("collect-report").innerText(), /^The collection finished after 3 min 12 s: [\d,]+ records received, [\d,]+ new events added to the case/);
    // The legacy source reads the scenario's mailbox: its own row.
    assert.equal(await page.locator('[data-testid="coverage-row"][data-source="activities"]').getAttribute("data-scope"), "adele.vance@contoso.sim");
    await page.keyboard.press("Control+2");
    const total = backend.current.events.length;
    assert.ok(total > 0);
    await waitFor(async () => (await page.getByTestId("status-count").count()) === 1 && (await page.getByTestId("status-count").innerText()) === `${total.toLocaleString("en-US")} events`, "the collected events in the timeline");
    assert.equal(await page.getByTestId("empty-case").count(), 0);
    await page.keyboard.press("Control+1");
    await page.getByTestId("case-home").waitFor();
    await assertClean(app);
  });

  test("a collection that needs a sign-in shows the prompt; one that fails says what happened and offers Resume", async () => {
    const dc = profileView({ ...tenantProfile().profile, id: "dc", display_name: "Fabrikam (device code)", sign_in: { method: "device-code" }, sources: ["graph"] });
    const { app, page, backend } = await setup({ profiles: [dc], breakRun: (w, attempt) => w.start.startsWith("2025-12-06") && attempt === 1 });
    await openDemo(page);
    await openCollection(page);
    await waitFor(async () => (await page.getByTestId("collect-from").inputValue()) !== "", "the default range");
    await page.getByTestId("collect-start").click();
    await page.getByTestId("signin-panel").waitFor();
    assert.equal(await page.getByTestId("signin-code").innerText(), "GZ7K3LQ8P");
    assert.match(await page.getByTestId("collect-progress").innerText(), /Starting: signing in and planning the time windows/);
    backend.collect.finishSignIn();
    await page.getByTestId("signin-panel").waitFor({ state: "detached" });

    // The network goes away at the second day: the error in words, what to do, the details folded, Resume.
    const banner = page.getByTestId("error-banner");
    await banner.waitFor();
    assert.equal(await banner.getAttribute("data-code"), "collect.network");
    const text = await banner.innerText();
    assert.match(text.split("\n")[0], /^Tidemark lost the connection to Microsoft 365/);
    assert.ok(!/collect\.network/.test(text.split("\n")[0]), "no code in the first sentence");
    assert.match(text, /Check the network connection .* then press Resume/);
    assert.equal(await page.locator('[data-testid="coverage-cell"][data-status="done"]').count(), 1);
    assert.match(await page.getByTestId("collect-run").innerText(), /Failed/);
    await page.screenshot({ path: screenshotPath("collect-failed") });
    await page.getByTestId("collect-resume-error").click();
    await page.getByTestId("collect-report").waitFor();
    assert.equal(await page.locator('[data-testid="coverage-cell"][data-status="done"]').count(), 3);
    assert.equal(calls(backend, "collect_resume").length, 1);
    await assertClean(app);
  });

  test("dark theme: the collection screen with its coverage map, and the wizard", async () => {
    const { app, page, backend } = await setup(
      { profiles: [tenantProfile()], fail: (w, attempt) => w.source === "graph" && w.start.startsWith("2025-12-02") && attempt === 1, gapWindow: (w) => w.source === "graph" && w.start.startsWith("2025-12-04") },
      { colorScheme: "dark" },
    );
    await openDemo(page);
    await openCollection(page);
    await waitFor(async () => (await page.getByTestId("collect-from").inputValue()) !== "", "the default range");
    await page.getByTestId("collect-from").fill("2025-11-28");
    await page.getByTestId("collect-to").fill("2025-12-05");
    // Times follow the display zone (this browser is in New York): the fields keep the same moments.
    await page.keyboard.press("Control+2");
    await page.getByTestId("zone-select").selectOption("local");
    await page.keyboard.press("Control+4");
    assert.equal(await page.getByTestId("collect-from").inputValue(), "2025-11-27 19:00");
    assert.equal(await page.getByTestId("collect-to").inputValue(), "2025-12-04 19:00");
    assert.match(await page.getByTestId("collect-zone").innerText(), /^UTC-05:00 · 7 days$/);
    await page.getByTestId("collect-start").click();
    await page.getByTestId("collect-report").waitFor();
    assert.deepEqual(calls(backend, "collect_start")[0].args.fromMs, Date.UTC(2025, 10, 28));
    await page.locator('[data-testid="coverage-cell"][data-status="failed"]').click();
    await page.getByTestId("coverage-detail").waitFor();
    await page.screenshot({ path: screenshotPath("collect-coverage-dark"), fullPage: true });
    await page.getByTestId("collect-connect").click();
    await page.getByTestId("wizard-next").click();
    await page.getByTestId("wizard-method-client-secret").check();
    await page.screenshot({ path: screenshotPath("collect-wizard-dark") });
    await assertClean(app);
  });
});
