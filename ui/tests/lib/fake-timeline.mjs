// The fake backend's timeline commands: random access (`search_page_at`), keyset pages of the huge
// synthetic cases in both orders (row contents computed from the position), and the histogram.

import { virtualRow } from "./fake-backend.mjs";

const NICE = [1e3, 5e3, 15e3, 30e3, 60e3, 300e3, 900e3, 1800e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 7 * 86400e3, 28 * 86400e3];
const ORDER = ["logon", "logon-failed", "read", "sync", "search", "send", "reply", "forward", "delete", "move", "attachment", "delivery", "rule", "forwarding", "permission", "consent", "admin", "other"];

/** Row at `position` of a virtual case of `n` rows in `sort` order. */
export function virtualAt(n, sort, position) {
  return virtualRow(sort === "desc" ? n - 1 - position : position);
}

function widthFor(first, last) {
  for (const w of NICE) if (Math.floor(last / w) - Math.floor(first / w) < 200) return w;
  return 364 * 86400e3;
}

function label(w) {
  if (w < 60e3) return `${w / 1e3} s`;
  if (w < 3600e3) return `${w / 60e3} min`;
  if (w < 86400e3) return `${w / 3600e3} h`;
  return `${w / 86400e3} d`;
}

/** Histogram shaped like the engine's: every bucket from first to last, stacked by action. */
function histogramOf(times, actionsOf) {
  if (times.length === 0) return { start_ms: 0, end_ms: 0, bucket_ms: 1000, bucket_label: "1 s", actions: [], buckets: [], total: 0 };
  const first = times[0];
  const last = times[times.length - 1];
  const w = widthFor(first, last);
  const start = Math.floor(first / w) * w;
  const n = Math.floor(last / w) - Math.floor(first / w) + 1;
  const present = new Set();
  const per = Array.from({ length: n }, () => new Map());
  times.forEach((t, k) => {
    const a = actionsOf(k);
    present.add(a);
    const m = per[Math.floor((t - start) / w)];
    m.set(a, (m.get(a) ?? 0) + 1);
  });
  const actions = ORDER.filter((a) => present.has(a));
  const buckets = per.map((m, i) => {
    const counts = actions.map((a) => m.get(a) ?? 0);
    return { start: new Date(start + i * w).toISOString(), start_ms: start + i * w, total: counts.reduce((s, c) => s + c, 0), counts };
  });
  return { start_ms: start, end_ms: start + n * w, bucket_ms: w, bucket_label: label(w), actions, buckets, total: times.length };
}

/** Histogram of a virtual case (one row per second, every fifth a sync): computed, not counted. */
function virtualHistogram(n) {
  const first = virtualRow(0).time_ms;
  const last = virtualRow(n - 1).time_ms;
  const w = widthFor(first, last);
  const start = Math.floor(first / w) * w;
  const nb = Math.floor(last / w) - Math.floor(first / w) + 1;
  const buckets = [];
  for (let i = 0; i < nb; i++) {
    const a = Math.max(0, Math.ceil((start + i * w - first) / 1000));
    const b = Math.min(n, Math.ceil((start + (i + 1) * w - first) / 1000));
    const total = Math.max(0, b - a);
    const sync = total > 0 ? Math.floor((b - 1) / 5) - Math.floor((a - 1) / 5) : 0;
    buckets.push({ start: new Date(start + i * w).toISOString(), start_ms: start + i * w, total, counts: [total - sync, sync] });
  }
  return { start_ms: start, end_ms: start + nb * w, bucket_ms: w, bucket_label: label(w), actions: ["read", "sync"], buckets, total: n };
}

/** Handles a timeline command, or returns null for the main fake backend to handle it. */
export function timelineCommand(b, cmd, args) {
  if (!["search_page", "search_page_at", "histogram"].includes(cmd)) return null;
  if (!b.current) return b.err("case.none_open", "No case is open.");
  const virtual = b.current.virtual;
  if (cmd === "histogram") {
    if (virtual) return { ok: virtualHistogram(virtual) };
    const rows = b.sorted(args.query, "asc");
    return { ok: histogramOf(rows.map((r) => r.time_ms), (k) => rows[k].action) };
  }
  const { query, sort, limit } = args;
  if (!(limit > 0 && limit <= 1000)) return b.err("internal", "limit out of range", String(limit));
  if (cmd === "search_page" && !virtual) return null; // the main fake's keyset pages
  b.seekLog ??= [];
  if (virtual) {
    const start = cmd === "search_page_at" ? args.position : args.after === null ? 0 : Number(args.after.slice(2)) + 1;
    const end = Math.min(virtual, start + limit);
    const rows = [];
    for (let p = start; p < end; p++) rows.push(virtualAt(virtual, sort, p));
    const next = end < virtual ? `v|${end - 1}` : null;
    const entry = { query, sort, after: cmd === "search_page" ? args.after : undefined, at: cmd === "search_page_at" ? start : undefined, limit, start, n: rows.length, next };
    b.pageLog.push(entry);
    return { ok: { rows, next } };
  }
  const all = b.sorted(query, sort);
  const start = args.position;
  const rows = all.slice(start, start + limit);
  const last = rows[rows.length - 1];
  const next = start + limit < all.length && last ? `${last.time_ms}|${last.id}` : null;
  b.pageLog.push({ query, sort, at: start, limit, start, n: rows.length, next });
  return { ok: { rows, next } };
}
