// Case home and mailbox view commands for the fake backend: acquisitions in the case summary, the case
// log, mailbox_page / mailbox_report / mailbox_report_csv over what the real engine answers for the BEC
// fixtures in tests/fixtures/activities (mailbox-fixture.json, made by make-mailbox-fixture.mjs), and
// facets that name the mailbox. Attacker-looking text is put where attackers put it (rule names, user
// agents, subjects) to prove it stays text.
//
// Use: `withCaseHomeAndMailbox(new FakeBackend(...))` patches that one instance.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { XSS_IMG } from "./fake-backend.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = JSON.parse(fs.readFileSync(path.join(here, "mailbox-fixture.json"), "utf8"));
export const MAILBOX = FIXTURE.mailbox;
export const XSS_SCRIPT = "<script>alert('ua')</script>";

/** The fixture with attacker text where the attacker controls it. */
function fixture() {
  const f = structuredClone(FIXTURE);
  for (const e of f.entries) {
    // The intruder's inbox rule name and browser string are theirs to choose.
    if (e.operation === "New-InboxRule") e.detail = e.detail.replace("Name=.;", `Name=${XSS_IMG};`);
  }
  for (const s of f.sessions) {
    if (s.user_agent && s.user_agent.includes("Firefox/60.0")) s.user_agent = `${s.user_agent} ${XSS_SCRIPT}`;
  }
  return f;
}

const sha = (seed) => seed.repeat(64 / seed.length).slice(0, 64);

/** Two acquisitions modelled on the fixtures: a completed import (a folder and an archive), and an interrupted one. */
export function acquisitions() {
  return [
    {
      id: 1,
      kind: "import",
      source: "activities-csv,ual-jsonl",
      parameters: JSON.stringify({
        inputs: ["/evidence/activities/", "/evidence/adele-ual.zip"],
        containers: [{ path: "/evidence/adele-ual.zip", size: 2210, sha256: sha("c0ffee") }],
        formats: ["activities-csv", "ual-jsonl"],
        skipped: [],
      }),
      operator: "investigator",
      tool_version: "0.1.0",
      started_at: "2025-12-04T09:05:12.310Z",
      finished_at: "2025-12-04T09:05:14.720Z",
      status: "completed",
      records_read: 39,
      events_new: 39,
      duplicates: 0,
      malformed: 0,
      files: [
        {
          path: "/evidence/activities/bec-adele-retriever.csv",
          size: 6427,
          sha256: "235bf577e521a57f4da1b7f8c072602821b05fc2e95a49e1fb12401baddd4ada",
          format: "activities-csv",
          format_name: "Outlook Activities CSV (CrowdStrike/LMG retriever)",
          encoding: "utf-8",
          container: null,
          records: 28,
          new_events: 28,
          duplicates: 0,
          malformed: 0,
          malformed_at: [],
          first_time: "2018-05-14T08:55:00.120Z",
          last_time: "2018-05-14T15:08:20.000Z",
        },
        {
          path: "/evidence/activities/bec-megan-retriever.csv",
          size: 1152,
          sha256: "05e5a17a8c995b963a7e33951e22fbb3074448620e86b778a478661f6f26aa43",
          format: "activities-csv",
          format_name: "Outlook Activities CSV (CrowdStrike/LMG retriever)",
          encoding: "utf-8",
          container: null,
          records: 4,
          new_events: 4,
          duplicates: 0,
          malformed: 0,
          malformed_at: [],
          first_time: "2018-05-14T11:00:00.000Z",
          last_time: "2018-05-14T11:03:00.000Z",
        },
        {
          path: "/evidence/adele-ual.zip › bec-adele-ual.jsonl",
          size: 4637,
          sha256: "ddf6084d288102fdfea4390fdf6cdaa52b8ff32c00117eaffe26e212f4352f95",
          format: "ual-jsonl",
          format_name: "Unified Audit Log JSONL",
          encoding: "utf-8",
          container: "/evidence/adele-ual.zip",
          records: 7,
          new_events: 7,
          duplicates: 0,
          malformed: 0,
          malformed_at: [],
          first_time: "2018-05-14T14:09:50.000Z",
          last_time: "2018-05-14T14:22:00.000Z",
        },
      ],
    },
    {
      id: 2,
      kind: "import",
      source: "purview-csv",
      parameters: JSON.stringify({ inputs: [`/evidence/purview ${XSS_IMG}.csv`], containers: [], formats: ["purview-csv"], skipped: [] }),
      operator: "investigator",
      tool_version: "0.1.0",
      started_at: "2025-12-04T09:20:00.000Z",
      finished_at: "2025-12-04T09:20:41.000Z",
      status: "interrupted",
      records_read: 150,
      events_new: 147,
      duplicates: 3,
      malformed: 2,
      files: [
        {
          path: `/evidence/purview ${XSS_IMG}.csv`,
          size: 4_000_000,
          sha256: "",
          format: "purview-csv",
          format_name: "Purview audit search CSV",
          encoding: "utf-16le",
          container: null,
          records: 150,
          new_events: 147,
          duplicates: 3,
          malformed: 2,
          malformed_at: ["line 17: line is not valid JSON", `line 90: record has no CreationTime; Subject was ${XSS_IMG}`],
          first_time: "2025-12-01T08:00:00.000Z",
          last_time: "2025-12-01T09:59:00.000Z",
        },
      ],
    },
  ];
}

/** The case log of that story, oldest first (as the engine sends it). */
export function caseLogEntries() {
  const h = (n) => sha(n.toString(16).padStart(2, "0") + "e1");
  return [
    { id: 1, time: "2025-12-04T09:00:00.000Z", operator: "investigator", action: "case.created", summary: 'Case "Contoso BEC (demo)" created', details: { name: "Contoso BEC (demo)" }, sha256: null, entry_hash: h(1) },
    {
      id: 2,
      time: "2025-12-04T09:05:14.720Z",
      operator: "investigator",
      action: "import",
      summary: "Imported 3 file(s): 39 records, 39 new events, 0 duplicates, 0 malformed",
      details: { acquisition_id: 1, status: "completed", error: null },
      sha256: sha("3de22b59"),
      entry_hash: h(2),
    },
    {
      id: 3,
      time: "2025-12-04T09:20:41.000Z",
      operator: "investigator",
      action: "import",
      summary: "Imported 1 file(s): 150 records, 147 new events, 3 duplicates, 2 malformed — interrupted",
      details: {
        acquisition_id: 2,
        status: "interrupted",
        error: "The import was stopped. The 150 records read before that are kept; import the same files again to add the rest.",
      },
      sha256: sha("77aa"),
      entry_hash: h(3),
    },
    {
      id: 4,
      time: "2025-12-04T09:31:02.000Z",
      operator: "investigator",
      action: "tag.created",
      summary: `Tag "${XSS_IMG}" created (#d9480f)`,
      details: {},
      sha256: null,
      entry_hash: h(4),
    },
  ];
}

function eventRow(e, s) {
  return {
    id: e.id,
    time: e.time,
    time_ms: e.time_ms,
    source: e.client_ip && !e.pane && !e.item_id ? "ual-jsonl" : "activities-csv",
    workload: "Exchange",
    record_type: null,
    operation: e.operation,
    action: e.action,
    actor: null,
    mailbox: MAILBOX,
    client_ip: e.client_ip,
    client_port: null,
    client_app: s?.client ?? null,
    user_agent: s?.user_agent ?? null,
    app_id: null,
    session_id: s?.session_id ?? null,
    result: null,
    subject: e.subject,
    folders: e.folders.length ? e.folders.join("; ") : null,
    item_count: null,
    object: e.item_id,
  };
}

/**
 * Patches one FakeBackend: acquisitions in its summaries, and the commands of Case home and the
 * mailbox view. `opts.logIssues` makes the log's chain broken.
 */
export function withCaseHomeAndMailbox(backend, opts = {}) {
  const f = fixture();
  // maxPage: the most entries a mailbox page holds here (the engine may answer fewer than asked, with a cursor).
  const state = { log: caseLogEntries(), issues: opts.logIssues ?? [], csvWritten: [], maxPage: null };
  backend.mailbox = state;
  const summary = backend.summary.bind(backend);
  backend.summary = () => ({ ...summary(), acquisitions: acquisitions() });
  const dispatch = backend.dispatch.bind(backend);
  const sessionOf = (id) => f.sessions.find((s) => s.id === id) ?? null;

  backend.dispatch = async (cmd, args) => {
    switch (cmd) {
      case "case_log":
        if (!backend.current) return backend.err("case.none_open", "No case is open.");
        return { ok: { entries: state.log, issues: state.issues } };
      case "facets": {
        const fields = ["actor", "mailbox", "action", "operation", "client_ip", "client_app", "app_id", "workload", "source"].map((field) => ({
          field,
          values:
            field === "mailbox"
              ? [
                  { value: MAILBOX, count: 39, filter: `mailbox:"${MAILBOX}"` },
                  { value: "alice@contoso.example", count: 1300, filter: 'mailbox:"alice@contoso.example"' },
                ]
              : field === "actor"
                ? [
                    { value: "bob@contoso.example", count: 1250, filter: 'actor:"bob@contoso.example"' },
                    { value: "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)", count: 20, filter: "" },
                  ]
                : [],
          distinct: 2,
          empty: 0,
          other: 0,
        }));
        return { ok: { matching: 5000, fields } };
      }
      case "mailbox_page": {
        const { mailbox, from, to, after, limit } = args;
        if (!mailbox || !/[a-z0-9]/i.test(mailbox)) return backend.err("query.invalid", "Name the mailbox to show, e.g. victim@contoso.com.");
        for (const [name, v] of [["From", from], ["To", to]]) {
          if (v && Number.isNaN(Date.parse(v.length <= 10 ? `${v}T00:00:00Z` : v)))
            return backend.err("query.invalid", `${name} needs a date like 2018-05-14 or 2018-05-14T10:00 (UTC); "${v}" is not one.`);
        }
        if (mailbox.trim().toLowerCase() !== MAILBOX) return { ok: { mailbox: mailbox.trim(), entries: [], sessions: [], next: null } };
        const start = after === null ? 0 : Number(after.slice(2));
        // Both ends inclusive; a bare date as `to` is the whole day (the UI sends full UTC times).
        const lo = from ? Date.parse(from.length <= 10 ? `${from}T00:00:00Z` : from) : -Infinity;
        const hi = to ? Date.parse(to.length <= 10 ? `${to}T00:00:00Z` : to) + (to.length <= 10 ? 86_399_999 : 0) : Infinity;
        const all = f.entries.filter((e) => e.time_ms >= lo && e.time_ms <= hi);
        const entries = all.slice(start, start + Math.min(limit, state.maxPage ?? limit));
        const end = start + entries.length;
        const ids = new Set(entries.map((e) => e.session));
        const later = new Set(all.slice(end).map((e) => e.session));
        const sessions = f.sessions.filter((s) => ids.has(s.id)).map((s) => ({ ...s, open: later.has(s.id) }));
        return { ok: { mailbox: MAILBOX, entries, sessions, next: end < all.length ? `m|${end}` : null } };
      }
      case "mailbox_report": {
        const { kind, after, limit } = args;
        const r = f.reports[kind];
        if (!r) return backend.err("query.invalid", `Unknown report ${kind}.`);
        const mine = args.mailbox.trim().toLowerCase() === MAILBOX;
        const rows = mine ? r.rows : [];
        const start = after === null ? 0 : Number(after.slice(2));
        const page = rows.slice(start, start + limit);
        const end = start + page.length;
        return { ok: { kind, title: kind, columns: r.columns, rows: page, next: end < rows.length ? `r|${end}` : null } };
      }
      case "mailbox_report_csv": {
        const { kind, path: out } = args;
        const rows = f.reports[kind]?.rows.length ?? 0;
        state.csvWritten.push({ ...args });
        const written = { kind, path: out, rows, sha256: sha("5a17") };
        state.log = [
          ...state.log,
          {
            id: state.log.length + 1,
            time: "2025-12-04T10:00:00.000Z",
            operator: "investigator",
            action: "export",
            summary: `Exported the ${kind} report of ${args.mailbox} (${rows} rows) to ${out}`,
            details: { report: kind },
            sha256: written.sha256,
            entry_hash: sha("99"),
          },
        ];
        return { ok: written };
      }
      case "event_detail": {
        const e = f.entries.find((x) => x.id === args.id) ?? f.entries.find((x) => x.search?.absorbed_ids.includes(args.id));
        const reportOnly = !e && Object.values(f.reports).some((r) => r.rows.some((row) => row.event_id === args.id));
        if (!e && !reportOnly) return dispatch(cmd, args);
        const base = e ?? f.entries[0];
        const row = { ...eventRow(base, sessionOf(base.session)), id: args.id };
        const rec = { TimeStamp: base.time, ActivityIdType: base.operation, ActivityItemId: base.item_id, Subject: base.subject, Detail: base.detail };
        return {
          ok: {
            event: row,
            record_key: `activities:${args.id}`,
            internet_message_ids: base.message_ids,
            details: "{}",
            raw: [
              {
                raw_id: 7,
                acquisition_id: 1,
                source_format: row.source,
                locator: "/evidence/activities/bec-adele-retriever.csv:12",
                sha256: sha("ab12"),
                size: 300,
                received_at: "2025-12-04T09:05:13.000Z",
                text: JSON.stringify(rec, null, 2),
                verbatim: JSON.stringify(rec),
              },
            ],
          },
        };
      }
      default:
        return dispatch(cmd, args);
    }
  };
  return backend;
}

export { FIXTURE };
