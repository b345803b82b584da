// Live collection for the fake backend: profiles, the simulated tenant, preflight with interactive
// sign-in (browser or device code, finished or cancelled by the test), and collections that plan
// windows like the engine (Management: 7 days back, older is a skipped window; Graph and Activities:
// day windows), emit `collect-progress` after every page, can be held at a page, stopped, failed and
// resumed, and add events to the case as they go. Shapes: src/lib/collectBindings.ts.
//
// Use: `withCollect(new FakeBackend(...), opts)` patches that one instance; `backend.collect` is the state.

import { generateEvents, BASE_ID, XSS_IMG } from "./fake-backend.mjs";

const H = 3_600_000;
const D = 24 * H;
export const NOW = Date.UTC(2025, 11, 8, 12, 0);
export const DEFAULT_FROM = Date.UTC(2025, 11, 5);
export const DEFAULT_TO = Date.UTC(2025, 11, 8);

export const CONNECT_OPTIONS = {
  clouds: [
    { id: "global", name: "Global (commercial)", description: "Most tenants: commercial and education Microsoft 365 (login.microsoftonline.com)." },
    { id: "gcc", name: "GCC", description: "US Government Community Cloud: commercial sign-in, its own Management API host." },
    { id: "gcc-high", name: "GCC High", description: "US Government GCC High (login.microsoftonline.us)." },
    { id: "dod", name: "DoD", description: "US Department of Defense (login.microsoftonline.us, DoD hosts)." },
    { id: "china", name: "China (21Vianet)", description: "Microsoft 365 operated by 21Vianet in China (login.chinacloudapi.cn)." },
  ],
  methods: [
    {
      id: "browser",
      name: "Sign in with your browser",
      when: "Use this when you have an account in the tenant with audit-log roles: your browser opens Microsoft's sign-in page, including multi-factor authentication.",
      delegated: true,
      secret_label: null,
    },
    {
      id: "device-code",
      name: "Sign in with a code on another device",
      when: "Use this when no browser can open on this computer: you type a short code on a phone or another computer. Many tenants block it with Conditional Access.",
      delegated: true,
      secret_label: null,
    },
    {
      id: "client-secret",
      name: "App with a client secret",
      when: "Use this when the tenant's admin created an app registration for you and gave you a secret: Tidemark signs in as that app and keeps the secret in this computer's keychain.",
      delegated: false,
      secret_label: "Client secret",
    },
    {
      id: "certificate",
      name: "App with a certificate",
      when: "Use this when the admin registered a certificate on the app: the most robust choice for long collections. Pick the PEM or PFX file; a PFX password goes to the keychain.",
      delegated: false,
      secret_label: "Certificate password (PFX only)",
    },
  ],
  sources: [
    {
      id: "management",
      name: "Management Activity API",
      description: "The Unified Audit Log as a feed: every workload, about 7 days back. Needs the ActivityFeed.Read permission (Office 365 Management APIs).",
      retention_days: 7,
    },
    {
      id: "graph",
      name: "Graph audit log query",
      description: "Audit search through Microsoft Graph: up to 180 days (longer with Audit Premium), filtered by user, operation or IP. Needs AuditLogsQuery.Read.All.",
      retention_days: null,
    },
    {
      id: "activities",
      name: "Outlook Activities API (legacy)",
      description: "The 2018 Outlook Activities API, one mailbox at a time. Microsoft disabled it in July 2018; it answers only in the simulated tenant.",
      retention_days: null,
    },
  ],
};

const EMPTY_OPTIONS = { content_types: [], graph_version: null, users: [], operations: [], record_types: [], ip_addresses: [], keyword: null, window_hours: null, mailboxes: [] };

export function profileView(profile, extra = {}) {
  return { profile: { ...profile, options: { ...EMPTY_OPTIONS, ...(profile.options ?? {}) } }, has_secret: false, signed_in: false, simulated: false, ...extra };
}

/** A saved real-tenant profile. */
export function tenantProfile(over = {}) {
  return profileView({
    id: "contoso",
    display_name: "Contoso – BEC 2025",
    cloud: "global",
    tenant: "contoso.onmicrosoft.com",
    client_id: "0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",
    sign_in: { method: "client-secret" },
    sources: ["management", "graph"],
    options: {},
    origin: "manual",
    ...over,
  }, { has_secret: true });
}

function gate() {
  let release;
  const promise = new Promise((r) => (release = r));
  return { promise, release };
}

/** The engine's default checks for a tenant whose app lacks the Graph permission. */
function defaultChecks(pv, sources) {
  const out = [];
  for (const s of sources) {
    out.push({ source: s, check: "token", status: "ok", message: "Signed in.", fix: "", detail: "" });
    if (s === "graph") {
      out.push({
        source: s,
        check: "permission",
        status: "fail",
        message: "Microsoft refused the audit query: the app registration lacks AuditLogsQuery.Read.All.",
        fix: "Ask a Global Administrator to grant AuditLogsQuery.Read.All (Application) to the app registration and to give admin consent, then test again.",
        detail: `HTTP 403 Forbidden: {"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges ${XSS_IMG}"}}`,
      });
    } else if (s === "management") {
      out.push({ source: s, check: "permission", status: "ok", message: "ActivityFeed.Read is granted.", fix: "", detail: "" });
      out.push({ source: s, check: "auditing", status: "ok", message: "Unified audit logging answers for this tenant.", fix: "", detail: "" });
      out.push({
        source: s,
        check: "subscription",
        status: "warn",
        message: "Audit.Exchange has no subscription yet.",
        fix: "Tidemark starts it when the collection begins; Microsoft may take up to 12 hours to show the first content.",
        detail: "",
      });
    } else {
      out.push({ source: s, check: "available", status: "ok", message: "The legacy Activities API answers (simulated tenant).", fix: "", detail: "" });
    }
  }
  return out;
}

/**
 * opts: profiles (ProfileView[]), checks(pv, sources) → Check[], fail(window, attempt) → true to fail a
 * window, breakRun(window, attempt) → true to fail the whole run there (the network went away),
 * gapWindow(window, index), pagesPerWindow (2), contentTypes (["Audit.Exchange"]), runs (older RunSummary[]).
 */
export function withCollect(backend, opts = {}) {
  const st = {
    profiles: [...(opts.profiles ?? [])],
    // A saved profile that says it has a secret has one (its value is never shown).
    secrets: new Map((opts.profiles ?? []).filter((p) => p.has_secret).map((p) => [p.profile.id, "(kept)"])),
    runs: [...(opts.runs ?? [])],
    coverage: [],
    coverageRunId: null,
    resumable: false,
    running: false,
    current: null,
    attempts: new Map(),
    nextWindow: 1,
    cancelRequested: false,
    signInWaiting: null,
    hold: null,
    pagesPerWindow: opts.pagesPerWindow ?? 2,
    contentTypes: opts.contentTypes ?? ["Audit.Exchange"],
    eventSeed: 100,
    pageCount: 0,
    holdFrom: 0,
    /** Pause collections after `after` more pages until release(). */
    holdNext(after = 0) {
      st.hold = gate();
      st.holdFrom = st.pageCount + after;
      return st.hold;
    },
    release() {
      const h = st.hold;
      st.hold = null;
      h?.release();
    },
    /** Finish the pending interactive sign-in. */
    finishSignIn() {
      st.signInWaiting?.release("ok");
    },
  };
  backend.collect = st;

  const err = (code, message, detail = null) => backend.err(code, message, detail);

  async function signIn(pv) {
    const m = pv.profile.sign_in.method;
    if ((m !== "browser" && m !== "device-code") || pv.signed_in) return null;
    st.signInWaiting = gate();
    const sim = pv.simulated;
    const prompt =
      m === "browser"
        ? {
            kind: "browser",
            url: `${sim ? "http://127.0.0.1:43117" : "https://login.microsoftonline.com"}/${pv.profile.tenant}/oauth2/v2.0/authorize?client_id=${pv.profile.client_id}&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A53117&code_challenge_method=S256`,
            user_code: null,
            message: null,
          }
        : {
            kind: "device-code",
            url: sim ? "http://127.0.0.1:43117/devicelogin" : "https://microsoft.com/devicelogin",
            user_code: "GZ7K3LQ8P",
            message: `To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code GZ7K3LQ8P to authenticate. ${XSS_IMG}`,
          };
    await backend.emit("sign-in", prompt);
    const how = await st.signInWaiting.promise;
    st.signInWaiting = null;
    if (how === "cancel") return err("collect.sign_in_cancelled", "The sign-in was cancelled.");
    pv.signed_in = true;
    await backend.emit("sign-in", { kind: "signed-in", url: null, user_code: null, message: null });
    return null;
  }

  function plan(pv, fromMs, toMs, sources) {
    const out = [];
    const win = (source, scope, a, b, extra = {}) => {
      out.push({
        window_id: st.nextWindow++, source, scope, start: new Date(a).toISOString(), end: new Date(b).toISOString(), status: "planned",
        server_count: null, records: 0, new_events: 0, duplicates: 0, errors: 0, faults: {}, blind_spots: [], ...extra,
      });
    };
    const days = (source, scope, a, b) => {
      for (let s = a; s < b; s += D) win(source, scope, s, Math.min(b, s + D));
    };
    for (const src of sources) {
      if (src === "management") {
        const oldest = NOW - 7 * D;
        for (const ct of st.contentTypes) {
          if (fromMs < oldest)
            win("management", ct, fromMs, Math.min(oldest, toMs), {
              status: "skipped",
              blind_spots: ["collect.outside_retention: The Management Activity API keeps content for 7 days; this part of the range is older. Use the Graph audit log query (180 days or more) for it."],
            });
          days("management", ct, Math.max(fromMs, oldest), toMs);
        }
      } else if (src === "graph") days("graph", "", fromMs, toMs);
      else for (const mb of pv.profile.options.mailboxes) days("activities", mb, fromMs, toMs);
    }
    return out;
  }

  function runSummary(run) {
    const cov = st.coverage;
    return {
      ...run,
      records: cov.reduce((s, w) => s + w.records, 0),
      new_events: cov.reduce((s, w) => s + w.new_events, 0),
    };
  }

  function report(run, started, stoppedEarly) {
    const cov = st.coverage;
    return {
      run_id: run.id,
      acquisition_id: 100 + run.id,
      records: cov.reduce((s, w) => s + w.records, 0),
      new_events: cov.reduce((s, w) => s + w.new_events, 0),
      duplicates: cov.reduce((s, w) => s + w.duplicates, 0),
      errors: cov.reduce((s, w) => s + w.errors, 0),
      pages: cov.length * st.pagesPerWindow,
      elapsed_ms: 192_000,
      server_ms: 150_000,
      stopped_early: stoppedEarly,
      coverage: cov.map((w) => ({ ...w })),
    };
  }

  function addEvents(n, startMs) {
    const c = backend.current;
    if (!c) return;
    st.eventSeed++;
    const added = generateEvents(n, { seed: st.eventSeed, startMs, idBase: BASE_ID * BigInt(st.eventSeed), acquisitionId: 9 });
    c.events = [...c.events, ...added];
    backend.cases[c.path].events = c.events;
    backend.sortedCache.clear();
  }

  async function drive(run) {
    st.running = true;
    st.cancelRequested = false;
    run.status = "running";
    const todo = st.coverage.filter((w) => w.status === "planned" || w.status === "running" || w.status === "failed");
    const total = st.coverage.length;
    let records = 0;
    let newEvents = 0;
    let pages = 0;
    let cancelled = false;
    for (let k = 0; k < todo.length && !cancelled; k++) {
      const w = todo[k];
      const idx = st.coverage.indexOf(w);
      const attempt = (st.attempts.get(w.window_id) ?? 0) + 1;
      st.attempts.set(w.window_id, attempt);
      if (opts.breakRun?.(w, attempt)) {
        st.running = false;
        run.status = "failed";
        st.resumable = true;
        Object.assign(run, runSummary(run));
        return err(
          "collect.network",
          "Tidemark lost the connection to Microsoft 365: the server did not answer for 2 minutes.",
          "error sending request for url (https://graph.microsoft.com/beta/security/auditLog/queries): connection reset",
        );
      }
      w.status = "running";
      w.blind_spots = [];
      w.faults = {};
      const server = 120 + idx * 10;
      const gapWindow = opts.gapWindow?.(w, idx) ?? false;
      const receive = gapWindow ? server - 7 : server;
      let got = 0;
      for (let p = 1; p <= st.pagesPerWindow; p++) {
        while (st.hold && st.pageCount >= st.holdFrom) await st.hold.promise;
        if (st.cancelRequested) {
          cancelled = true;
          break;
        }
        const n = p === st.pagesPerWindow ? receive - got : Math.floor(receive / st.pagesPerWindow);
        got += n;
        records += n;
        pages++;
        st.pageCount++;
        const done = st.coverage.filter((x) => x.status === "done" || x.status === "failed" || x.status === "skipped").length;
        await backend.emit("collect-progress", {
          source: w.source, scope: w.scope, windows_done: done, windows_total: total, pages, records, new_events: newEvents + Math.floor(got * 0.9),
          records_per_s: 412.7, window_id: w.window_id, window_start: w.start, window_end: w.end, window_records: got,
          window_server_count: w.source === "graph" ? server : null, eta_s: Math.max(5, (todo.length - k) * 40),
        });
      }
      if (cancelled) {
        w.status = "planned";
        w.records = 0;
        w.blind_spots = ["not collected yet: resume the run"];
        break;
      }
      if (opts.fail?.(w, attempt)) {
        w.status = "failed";
        w.records = 0;
        w.server_count = null;
        w.faults = { "query-failed": 3, "throttle-429": 2 };
        w.blind_spots = [`collect.query_failed: The audit log query failed on Microsoft's side three times for this window (Microsoft said: ${XSS_IMG}).`];
        continue;
      }
      const dup = idx % 3 === 0 ? 4 : 0;
      w.status = "done";
      w.server_count = server;
      w.records = receive;
      w.duplicates = dup;
      w.new_events = receive - dup;
      w.errors = idx === 2 ? 1 : 0;
      if (idx === 1) w.faults = { "throttle-429": 3, "slow-page": 1 };
      if (gapWindow) w.blind_spots = [`the server reported ${server} records, ${receive} were received`];
      newEvents += w.new_events;
      addEvents(20, Date.parse(w.start) + H);
    }
    st.running = false;
    const failed = st.coverage.some((w) => w.status === "failed");
    const unfinished = st.coverage.some((w) => w.status === "planned" || w.status === "running");
    run.status = cancelled || unfinished ? "incomplete" : failed ? "incomplete" : "completed";
    st.resumable = run.status !== "completed";
    Object.assign(run, runSummary(run));
    if (cancelled) return err("collect.cancelled", "The collection was stopped. What was collected so far is in the case; Resume continues where it stopped.");
    return { ok: report(run, 0, false) };
  }

  const orig = backend.dispatch.bind(backend);
  backend.dispatch = async (cmd, args) => {
    switch (cmd) {
      case "connect_options":
        return { ok: CONNECT_OPTIONS };
      case "profile_list":
        return { ok: st.profiles.map((p) => structuredClone(p)) };
      case "profile_save": {
        const p = args.profile;
        if (!/^[A-Za-z0-9_-]+$/.test(p.id)) return err("collect.profile_invalid", `The profile name "${p.id}" can only use letters, digits, '-' and '_'. Choose another.`);
        const old = st.profiles.find((x) => x.profile.id === p.id);
        if (args.secret !== null) st.secrets.set(p.id, args.secret);
        const pv = profileView(p, { has_secret: st.secrets.has(p.id), signed_in: false, simulated: old?.simulated ?? false });
        st.profiles = old ? st.profiles.map((x) => (x.profile.id === p.id ? pv : x)) : [...st.profiles, pv];
        return { ok: pv };
      }
      case "profile_remove":
        st.profiles = st.profiles.filter((x) => x.profile.id !== args.id);
        st.secrets.delete(args.id);
        return { ok: null };
      case "simulated_tenant_start": {
        const pv = profileView(
          {
            id: "simulated",
            display_name: "Simulated tenant (Contoso BEC)",
            cloud: "global",
            tenant: "contoso.sim",
            client_id: "5b1c0d6e-7f80-4a91-b2c3-d4e5f6a7b8c9",
            sign_in: { method: args.method },
            sources: ["management", "graph", "activities"],
            options: { mailboxes: ["adele.vance@contoso.sim"] },
            endpoints: { login: "http://127.0.0.1:43117", management: "http://127.0.0.1:43117", graph: "http://127.0.0.1:43117", outlook: "http://127.0.0.1:43117" },
            origin: "simulated-tenant",
          },
          { simulated: true, has_secret: args.method === "client-secret" || args.method === "certificate" },
        );
        st.profiles = [...st.profiles.filter((x) => x.profile.id !== "simulated"), pv];
        return {
          ok: {
            profile: pv, base_url: "http://127.0.0.1:43117", investigator: "investigator@contoso.sim", password: "Tidemark-Training-1",
            victim: "adele.vance@contoso.sim", now_ms: NOW, from_ms: Date.UTC(2025, 11, 1), to_ms: Date.UTC(2025, 11, 5),
          },
        };
      }
      case "preflight": {
        const pv = st.profiles.find((x) => x.profile.id === args.profileId);
        if (!pv) return err("collect.profile_invalid", "There is no saved connection with this name.");
        const signed = await signIn(pv);
        if (signed) return signed;
        const sources = args.sources ?? pv.profile.sources;
        return { ok: (opts.checks ?? defaultChecks)(pv, sources) };
      }
      case "sign_in_cancel":
        st.signInWaiting?.release("cancel");
        return { ok: null };
      case "collect_defaults":
        return { ok: { now_ms: NOW, from_ms: DEFAULT_FROM, to_ms: DEFAULT_TO } };
      case "collect_start": {
        if (st.running) return err("collect.busy", "Another collection is running in this case.");
        const pv = st.profiles.find((x) => x.profile.id === args.profileId);
        if (!pv) return err("collect.profile_invalid", "There is no saved connection with this name.");
        const signed = await signIn(pv);
        if (signed) return signed;
        const run = {
          id: st.runs.length + 1, status: "running", profile_name: pv.profile.display_name, from: new Date(args.fromMs).toISOString(),
          to: new Date(args.toMs).toISOString(), sources: args.sources, records: 0, new_events: 0,
        };
        st.runs.push(run);
        st.coverage = plan(pv, args.fromMs, args.toMs, args.sources);
        st.coverageRunId = run.id;
        st.current = run;
        st.resumable = false;
        return drive(run);
      }
      case "collect_resume": {
        if (st.running) return err("collect.busy", "Another collection is running in this case.");
        if (!st.resumable || !st.current) return err("collect.nothing_to_resume", "The last collection has finished; there is nothing to resume.");
        return drive(st.current);
      }
      case "collect_cancel":
        st.cancelRequested = true;
        st.release();
        return { ok: null };
      case "collection_overview":
        return {
          ok: {
            runs: st.runs.map((r) => ({ ...r })),
            coverage: st.coverage.map((w) => ({ ...w })),
            coverage_run_id: st.coverageRunId,
            resumable: st.resumable && !st.running,
            running: st.running,
          },
        };
      default:
        return orig(cmd, args);
    }
  };
  return backend;
}
