// The fake backend's facets, annotations (tags, bookmarks, notes, saved searches) and export commands,
// with the engine's shapes (src/lib/bindings.ts) and argument names (Tauri's camelCase).

const FACET_FIELDS = [
  ["actor", "actor", (r) => r.actor],
  ["mailbox", "mailbox", (r) => r.mailbox],
  ["action", "action", (r) => r.action],
  ["operation", "op", (r) => r.operation],
  ["client_ip", "ip", (r) => r.client_ip],
  ["client_app", "app", (r) => r.client_app],
  ["app_id", "app", (r) => r.app_id],
  ["workload", "workload", (r) => r.workload],
  ["source", "source", (r) => r.source],
];

export const EXPORT_COLUMNS = [
  ["time", "Time", "Event time in the export's time zone"],
  ["time_utc", "Time (UTC)", "Event time in UTC"],
  ["action", "Action", "What kind of activity"],
  ["operation", "Operation", "The operation as Microsoft 365 named it"],
  ["actor", "Actor", "Who did it"],
  ["mailbox", "Mailbox", "Whose mailbox it happened in"],
  ["client_ip", "Client IP", "Client IP address, without port"],
  ["client_app", "Client", "Client family"],
  ["user_agent", "User agent", "User agent or client info string"],
  ["session_id", "Session id", "Session id"],
  ["subject", "Subject", "Message subject, or the search text for searches"],
  ["folders", "Folders", "Folder paths"],
  ["tags", "Tags", "The investigator's tags"],
  ["event_id", "Event id", "Tidemark's event id"],
  ["raw_sha256", "Raw record SHA-256", "SHA-256 of the original record's bytes"],
].map(([name, label, description]) => ({ name, label, description }));

export const EXPORT_PRESETS = [
  { name: "timeline", description: "What the timeline shows: when, what, who, from where, which message", columns: ["time", "action", "operation", "actor", "mailbox", "client_ip", "client_app", "subject", "folders", "event_id"] },
  { name: "full", description: "Every field, with provenance (record key, event id, raw record SHA-256)", columns: [] },
  { name: "network", description: "Sign-ins and sessions: addresses, clients, user agents, app and session ids", columns: ["time", "actor", "operation", "client_ip", "client_app", "user_agent", "session_id"] },
];

const NOW = "2025-12-04T10:00:00.000Z";

function state(b) {
  if (!b.ws) {
    b.ws = {
      tags: [],
      eventTags: new Map(), // event id → Set(tag id)
      bookmarks: new Map(), // event id → created_at
      notes: [],
      saved: [],
      next: 1,
      exports: [],
      exportCancel: false,
    };
    // tag:, is:, has:, workload: need the case's state.
    b.queryContext = () => ({
      fields: {
        tag: (v) => {
          const t = b.ws.tags.find((x) => x.name.toLowerCase() === v);
          return (r) => !!t && !!b.ws.eventTags.get(r.id)?.has(t.id);
        },
        is: (v) => (r) => (v === "bookmarked" ? b.ws.bookmarks.has(r.id) : v === "tagged" ? (b.ws.eventTags.get(r.id)?.size ?? 0) > 0 : false),
        has: () => (r) => b.ws.notes.some((n) => n.event_id === r.id),
        workload: (v) => (r) => (r.workload ?? "").toLowerCase() === v,
      },
    });
  }
  return b.ws;
}

function tagOut(ws, t) {
  let events = 0;
  for (const set of ws.eventTags.values()) if (set.has(t.id)) events++;
  return { ...t, events };
}

function changed(b) {
  b.sortedCache.clear();
}

function checkName(b, name, what) {
  const n = String(name ?? "").trim();
  if (n === "") return [null, b.err("annotation.invalid", `A ${what} needs a name. Type one and try again.`)];
  if (what === "tag" && n.includes('"')) return [null, b.err("annotation.invalid", 'A tag name cannot contain a double quote ("): it could not be searched with tag:. Use other characters.')];
  return [n, null];
}

function events(b) {
  return b.current?.events ?? [];
}

function rowById(b, id) {
  return events(b).find((e) => e.row.id === id)?.row ?? null;
}

export async function workspaceCommand(b, cmd, args) {
  const ws = state(b);
  switch (cmd) {
    case "facets": {
      if (b.facetsGate) await b.facetsGate(args.query);
      if (b.current?.virtual) return { ok: { matching: b.current.virtual, fields: FACET_FIELDS.map(([field]) => ({ field, values: [], distinct: 0, empty: 0, other: 0 })), sample: null } };
      const rows = b.sorted(args.query, "asc");
      const top = args.top ?? 10;
      const fields = FACET_FIELDS.map(([field, qf, get]) => {
        const counts = new Map();
        let empty = 0;
        for (const r of rows) {
          const v = get(r);
          if (v === null || v === undefined || v === "") empty++;
          else counts.set(v, (counts.get(v) ?? 0) + 1);
        }
        const sorted = [...counts].sort((a, c) => c[1] - a[1] || (a[0] < c[0] ? -1 : 1));
        const values = sorted.slice(0, top).map(([value, count]) => ({ value, count, filter: `${qf}:"${value.replace(/"/g, " ")}"` }));
        const other = sorted.slice(top).reduce((s, [, c]) => s + c, 0);
        return { field, values, distinct: counts.size, empty, other };
      });
      // As the engine does above 50,000 events: a fast estimate first (here: the counts rounded up to
      // tens), and the exact counts when asked for them.
      if (b.facetsEstimateAbove !== undefined && !args.exact && rows.length > b.facetsEstimateAbove) {
        const est = (n) => Math.ceil(n / 10) * 10;
        const estFields = fields.map((f) => ({ ...f, values: f.values.map((v) => ({ ...v, count: est(v.count) })), empty: est(f.empty), other: est(f.other) }));
        return { ok: { matching: rows.length, fields: estFields, sample: { events: Math.ceil(rows.length / 4) } } };
      }
      if (args.exact && b.facetsExactGate) await b.facetsExactGate(args.query);
      return { ok: { matching: rows.length, fields, sample: null } };
    }
    case "tag_list":
      return { ok: ws.tags.map((t) => tagOut(ws, t)) };
    case "tag_create": {
      const [name, e] = checkName(b, args.name, "tag");
      if (e) return e;
      if (ws.tags.some((t) => t.name.toLowerCase() === name.toLowerCase())) return b.err("tag.exists", `A tag named "${name}" already exists.`);
      if (!/^#[0-9a-f]{6}$/i.test(args.color)) return b.err("annotation.invalid", `"${args.color}" is not a colour Tidemark can store.`);
      const t = { id: ws.next++, name, color: args.color.toLowerCase(), created_at: NOW };
      ws.tags.push(t);
      return { ok: tagOut(ws, t) };
    }
    case "tag_rename":
    case "tag_recolor": {
      const t = ws.tags.find((x) => x.id === args.tagId);
      if (!t) return b.err("tag.not_found", "There is no such tag.");
      if (cmd === "tag_rename") {
        const [name, e] = checkName(b, args.name, "tag");
        if (e) return e;
        if (ws.tags.some((x) => x !== t && x.name.toLowerCase() === name.toLowerCase())) return b.err("tag.exists", `A tag named "${name}" already exists.`);
        // Saved searches that name the old tag follow the rename (as the engine does).
        const esc = t.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        const re = new RegExp(`(^|[\\s-])tag:(?:"\\s*${esc}\\s*"|${esc}(?=\\s|$))`, "gi");
        const text = /\s|\*$/.test(name) ? `"${name}"` : name;
        for (const s of ws.saved) s.query = s.query.replace(re, (_m, pre) => `${pre}tag:${text}`);
        t.name = name;
      } else t.color = args.color.toLowerCase();
      changed(b);
      return { ok: tagOut(ws, t) };
    }
    case "tag_delete": {
      const t = ws.tags.find((x) => x.id === args.tagId);
      if (!t) return b.err("tag.not_found", "There is no such tag.");
      let removed = 0;
      for (const set of ws.eventTags.values()) if (set.delete(t.id)) removed++;
      ws.tags = ws.tags.filter((x) => x !== t);
      changed(b);
      return { ok: removed };
    }
    case "tag_events":
    case "untag_events":
    case "tag_query":
    case "untag_query": {
      const t = ws.tags.find((x) => x.id === args.tagId);
      if (!t) return b.err("tag.not_found", "There is no such tag.");
      const ids = cmd.endsWith("_query") ? b.sorted(args.query, "asc").map((r) => r.id) : args.eventIds;
      const add = cmd.startsWith("tag_");
      let n = 0;
      for (const id of ids) {
        let set = ws.eventTags.get(id);
        if (!set) ws.eventTags.set(id, (set = new Set()));
        if (add && !set.has(t.id)) {
          set.add(t.id);
          n++;
        } else if (!add && set.delete(t.id)) n++;
      }
      changed(b);
      return { ok: { tag: tagOut(ws, t), changed: n } };
    }
    case "bookmark_toggle": {
      if (!rowById(b, args.eventId)) return b.err("event.not_found", "This event is not in the open case.", args.eventId);
      const on = !ws.bookmarks.has(args.eventId);
      if (on) ws.bookmarks.set(args.eventId, NOW);
      else ws.bookmarks.delete(args.eventId);
      changed(b);
      return { ok: on };
    }
    case "bookmark_list":
      return { ok: [...ws.bookmarks].map(([event_id, created_at]) => ({ event_id, created_at, event: rowById(b, event_id) })) };
    case "note_list":
      return { ok: ws.notes };
    case "note_create_event":
    case "note_create_range": {
      if (String(args.body ?? "").trim() === "") return b.err("annotation.invalid", "A note needs some text. Type it and try again.");
      const range = cmd === "note_create_range";
      if (range && args.endMs < args.startMs) return b.err("annotation.invalid", "The time range ends before it starts. Select the range again.");
      const n = {
        id: ws.next++,
        event_id: range ? null : args.eventId,
        start: range ? new Date(args.startMs).toISOString() : null,
        end: range ? new Date(args.endMs).toISOString() : null,
        start_ms: range ? args.startMs : null,
        end_ms: range ? args.endMs : null,
        body: args.body,
        created_at: NOW,
        updated_at: NOW,
      };
      ws.notes.push(n);
      changed(b);
      return { ok: n };
    }
    case "note_edit": {
      const n = ws.notes.find((x) => x.id === args.noteId);
      if (!n) return b.err("note.not_found", "There is no such note.");
      n.body = args.body;
      n.updated_at = "2025-12-04T11:30:00.000Z";
      return { ok: n };
    }
    case "note_delete": {
      ws.notes = ws.notes.filter((x) => x.id !== args.noteId);
      changed(b);
      return { ok: null };
    }
    case "saved_search_list":
      return { ok: ws.saved };
    case "saved_search_create": {
      const [name, e] = checkName(b, args.name, "saved search");
      if (e) return e;
      if (ws.saved.some((x) => x.name.toLowerCase() === name.toLowerCase())) return b.err("saved_search.exists", `A saved search named "${name}" already exists.`);
      b.sorted(args.query, "asc"); // an invalid query is refused, as the engine does
      const s = { id: ws.next++, name, query: args.query, created_at: NOW };
      ws.saved.push(s);
      return { ok: s };
    }
    case "saved_search_rename": {
      const s = ws.saved.find((x) => x.id === args.savedSearchId);
      if (!s) return b.err("saved_search.not_found", "There is no such saved search.");
      s.name = String(args.name).trim();
      return { ok: s };
    }
    case "saved_search_delete":
      ws.saved = ws.saved.filter((x) => x.id !== args.savedSearchId);
      return { ok: null };
    case "event_annotations":
      return {
        ok: args.eventIds.map((id) => ({
          event_id: id,
          tag_ids: [...(ws.eventTags.get(id) ?? [])].sort((x, y) => x - y),
          bookmarked: ws.bookmarks.has(id),
          notes: ws.notes.filter((n) => n.event_id === id),
        })),
      };
    case "export_options":
      return { ok: { columns: EXPORT_COLUMNS, presets: EXPORT_PRESETS, formats: ["csv", "jsonl", "xlsx", "html"] } };
    case "export_destination_check": {
      // Folders that exist in the fake: /cases, /exports, /tmp. Files already there: b.existingFiles.
      const text = (args.path ?? "").trim();
      const ext = `.${args.format}`;
      if (text === "") return b.err("export.invalid", "Type where to save the export, such as /home/you/Documents/events.csv, or press Choose… to pick the place.");
      if (!text.startsWith("/")) return b.err("export.invalid", `"${text}" is not a full path. Type the whole path from the top, such as /home/you/Documents/events.csv, or press Choose….`);
      const path = text.toLowerCase().endsWith(ext) ? text : `${text}${ext}`;
      const folder = path.slice(0, path.lastIndexOf("/")) || "/";
      if (!["/cases", "/exports", "/tmp"].includes(folder)) return b.err("export.invalid", `The folder ${folder} does not exist. Create it first, type another folder, or press Choose… to pick one.`);
      return { ok: { path, folder, replaces: (b.existingFiles ?? []).includes(path) } };
    }
    case "export_cancel":
      ws.exportCancel = true;
      return { ok: null };
    case "export_events": {
      const req = args.request;
      ws.exports.push(req);
      ws.exportCancel = false;
      let rows;
      const s = req.scope;
      if (s.kind === "query") rows = b.sorted(s.query, "asc").length;
      else if (s.kind === "selection") rows = s.ids.length;
      else if (s.kind === "bookmarked") rows = ws.bookmarks.size;
      else rows = b.sorted(`tag:"${s.tag}"`, "asc").length;
      const steps = [0.25, 0.6];
      for (const f of steps) {
        await b.emit("export-progress", { rows: Math.floor(rows * f), total: rows, elapsed_ms: 800 * f, rows_per_s: 12_345.6, finishing: false });
      }
      if (b.exportGate) await b.exportGate;
      if (ws.exportCancel) return b.err("export.cancelled", "The export was cancelled. The unfinished file was removed.");
      await b.emit("export-progress", { rows, total: rows, elapsed_ms: 1500, rows_per_s: 12_345.6, finishing: true });
      const columns = req.columns?.kind === "custom" ? req.columns.columns : (EXPORT_PRESETS.find((p) => p.name === (req.columns?.name ?? (req.format === "html" ? "timeline" : "full")))?.columns ?? []);
      const manifest_path = `${req.path}.manifest.json`;
      return {
        ok: {
          manifest: {
            tool: "Tidemark",
            tool_version: "0.1.0",
            created_at: NOW,
            case_name: b.current.name,
            case_path: b.current.path,
            case_id: "c0ffee",
            scope: s,
            scope_description: s.kind === "query" ? `query "${s.query}"` : s.kind === "selection" ? `${s.ids.length} selected events` : s.kind === "bookmarked" ? "bookmarked events" : `events tagged "${s.tag}"`,
            query: s.kind === "query" ? s.query : "",
            format: req.format,
            profile: req.columns?.kind === "custom" ? "custom" : (req.columns?.name ?? "full"),
            columns,
            time_zone: req.time_zone === "local" ? "America/New_York" : req.time_zone,
            rows,
            raw_records_sha256: "ab".repeat(32),
            truncated_cells: 0,
            files: [{ path: req.path, size: rows * 312, sha256: "5e".repeat(32), sheets: [] }],
          },
          manifest_path,
          manifest_sha256: "7d".repeat(32),
          elapsed_ms: 1_520,
        },
      };
    }
    default:
      return undefined;
  }
}
