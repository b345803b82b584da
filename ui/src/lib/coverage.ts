// The coverage map of a collection as pure data: one row per source (and scope: content type or
// mailbox), time columns cut at every window boundary, cells coloured by status with a word and a
// pattern each (never colour alone), and the sentences that say what a window cannot vouch for.

import type { CollectProgress, Coverage, RunSummary } from "./collectBindings";
import { formatCount, formatSpanZoned, formatTimeMs, plural } from "./format";

export type CellStatus = "done" | "running" | "planned" | "failed" | "skipped";

export interface StatusInfo {
  label: string;
  /** One sentence for the legend and the details. */
  meaning: string;
}

export const STATUS_INFO: Record<CellStatus, StatusInfo> = {
  done: { label: "Collected", meaning: "Every record the server listed for this window was received." },
  running: { label: "Collecting now", meaning: "Tidemark is reading this window right now." },
  planned: { label: "Not collected yet", meaning: "Nothing was read for this window yet. Resume the collection to read it." },
  failed: { label: "Failed", meaning: "Reading this window failed: its events may be missing from the case. Resume to try again." },
  skipped: {
    label: "Skipped",
    meaning: "Microsoft does not offer this window from this source (for example it is older than the source keeps). Its events are not in the case from here.",
  },
};

/** Legend order: good to bad, then the in-between states. */
export const LEGEND: CellStatus[] = ["done", "running", "planned", "failed", "skipped"];

export function statusOf(s: string): CellStatus {
  return s === "done" || s === "running" || s === "failed" || s === "skipped" ? s : "planned";
}

const SOURCE_NAMES: Record<string, string> = {
  management: "Management Activity API",
  graph: "Graph audit log query",
  activities: "Outlook Activities (legacy)",
};
const SOURCE_ORDER = ["management", "graph", "activities"];

export function sourceName(source: string): string {
  return SOURCE_NAMES[source] ?? source;
}

/** "Management Activity API · Audit.Exchange", "Graph audit log query", "Outlook Activities (legacy) · adele@contoso.com". */
export function rowLabel(source: string, scope: string): string {
  return scope ? `${sourceName(source)} · ${scope}` : sourceName(source);
}

const FAULTS: Record<string, string> = {
  "throttle-429": "Microsoft asked Tidemark to slow down (HTTP 429); it waited and asked again",
  "throttle-af429": "The Management API's rate limit was reached (AF429); Tidemark waited and asked again",
  "server-error": "The server answered with an error; Tidemark asked again",
  "connection-reset": "The connection dropped; Tidemark asked again",
  "slow-page": "A page took unusually long to arrive",
  "token-expiry": "The sign-in expired during the window; Tidemark signed in again",
  "eventual-consistency": "Microsoft listed content before it could be read; Tidemark waited for it",
  "duplicate-blobs": "Microsoft listed the same content twice; the copies were recognised, not counted twice",
  "malformed-record": "A record could not be read; its bytes are kept in the case",
  "query-failed": "The audit log query failed on Microsoft's side and was started again",
  "activities-shutdown": "The legacy Outlook Activities API refused: Microsoft is switching it off",
};

/** A fault the collection met, in words. */
export function faultText(key: string): string {
  return FAULTS[key] ?? key;
}

/** Faults of a window, most frequent first: "Microsoft asked … (3 times)". */
export function faultLines(c: Pick<Coverage, "faults">): string[] {
  return Object.entries(c.faults)
    .filter((e): e is [string, number] => typeof e[1] === "number" && e[1] > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${faultText(k)}${n > 1 ? ` (${formatCount(n)} times)` : ""}`);
}

function sentence(s: string): string {
  const t = s.trim();
  if (t === "") return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?)]$/.test(first) ? first : `${first}.`;
}

export interface BlindSpot {
  /** Plain sentence. */
  text: string;
  /** The engine's code when the line carried one (collect.outside_retention). */
  code: string | null;
}

/**
 * What a window cannot vouch for, in sentences: the engine's lines (a leading "collect.x: " code is
 * split off), plus unreadable records when the engine did not say so already.
 */
export function blindSpots(c: Coverage): BlindSpot[] {
  const out: BlindSpot[] = [];
  for (const line of c.blind_spots) {
    const m = /^(collect\.[a-z_]+|[a-z]+(?:[._][a-z]+)+):\s*([\s\S]*)$/.exec(line);
    if (m && m[1] !== undefined) {
      const text = (m[2] ?? "").trim();
      out.push({ text: sentence(text || `The window ended with ${m[1]}`), code: m[1] });
    } else if (line.trim() !== "") out.push({ text: sentence(line), code: null });
  }
  if (c.errors > 0 && !out.some((b) => /unreadable|could not be read|malformed/i.test(b.text))) {
    out.push({ text: `${plural(c.errors, "record", "records")} could not be read as audit events; their bytes are kept in the case.`, code: null });
  }
  return out;
}

/** Whether a collected window still has something missing (the server listed more, throttling, unreadable records). */
export function hasGap(c: Coverage): boolean {
  if (statusOf(c.status) !== "done") return false;
  if (c.server_count !== null && c.server_count > c.records) return true;
  return c.errors > 0 || c.blind_spots.length > 0;
}

/** "1,204 records received (the server listed 1,204) · 1,100 new · 104 already in the case · 2 unreadable". */
export function countsText(c: Coverage): string {
  const parts: string[] = [];
  const received = plural(c.records, "record", "records");
  parts.push(c.server_count === null ? `${received} received` : `${received} received of ${formatCount(c.server_count)} the server listed`);
  parts.push(`${formatCount(c.new_events)} new`);
  if (c.duplicates > 0) parts.push(`${formatCount(c.duplicates)} already in the case`);
  if (c.errors > 0) parts.push(`${formatCount(c.errors)} unreadable`);
  return parts.join(" · ");
}

/** The window's time span in the display zone. */
export function windowSpan(c: Pick<Coverage, "start" | "end">, zone: string): string {
  return formatSpanZoned(c.start, c.end, zone);
}

/** Title and accessible label of a cell: where, when, status, counts. */
export function cellLabel(c: Coverage, zone: string): string {
  const st = STATUS_INFO[statusOf(c.status)].label;
  const gap = hasGap(c) ? ", with a gap" : "";
  const counts = statusOf(c.status) === "planned" || statusOf(c.status) === "skipped" ? "" : `. ${countsText(c)}`;
  return `${rowLabel(c.source, c.scope)}, ${windowSpan(c, zone)}: ${st}${gap}${counts}`;
}

// ---- layout

export interface Column {
  startMs: number;
  endMs: number;
  /** Relative width (CSS fr). */
  weight: number;
  /** Drawn narrower than its duration (a long window next to short ones). */
  compressed: boolean;
}

export interface Cell {
  window: Coverage;
  status: CellStatus;
  gap: boolean;
  /** CSS grid lines (1-based, end exclusive). */
  colStart: number;
  colEnd: number;
}

export interface Row {
  key: string;
  source: string;
  scope: string;
  label: string;
  cells: Cell[];
}

export interface Tick {
  /** 0..1 from the left edge of the time area. */
  pos: number;
  label: string;
}

export interface Layout {
  columns: Column[];
  /** grid-template-columns for the time area. */
  template: string;
  rows: Row[];
  fromMs: number;
  toMs: number;
}

function ms(iso: string): number {
  return Date.parse(iso);
}

/**
 * Rows by source (engine order) and scope (first seen), columns at every window boundary. A column
 * longer than four times the median is drawn four times as wide (and marked compressed), so a
 * 170-day skipped window does not squeeze seven collected days into slivers.
 */
export function layoutCoverage(coverage: Coverage[]): Layout {
  const valid = coverage.filter((c) => Number.isFinite(ms(c.start)) && Number.isFinite(ms(c.end)) && ms(c.end) > ms(c.start));
  if (valid.length === 0) return { columns: [], template: "", rows: [], fromMs: 0, toMs: 0 };
  const bounds = [...new Set(valid.flatMap((c) => [ms(c.start), ms(c.end)]))].sort((a, b) => a - b);
  const durations = bounds.slice(1).map((b, i) => b - (bounds[i] as number));
  const sorted = [...durations].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 1;
  const cap = Math.max(1, median * 4);
  const columns: Column[] = durations.map((d, i) => ({
    startMs: bounds[i] as number,
    endMs: bounds[i + 1] as number,
    weight: Math.min(d, cap) / cap,
    compressed: d > cap,
  }));
  const index = new Map(bounds.map((b, i) => [b, i]));

  const rowMap = new Map<string, Row>();
  for (const c of valid) {
    const key = `${c.source}\u0000${c.scope}`;
    let row = rowMap.get(key);
    if (!row) {
      row = { key, source: c.source, scope: c.scope, label: rowLabel(c.source, c.scope), cells: [] };
      rowMap.set(key, row);
    }
    row.cells.push({
      window: c,
      status: statusOf(c.status),
      gap: hasGap(c),
      colStart: (index.get(ms(c.start)) ?? 0) + 1,
      colEnd: (index.get(ms(c.end)) ?? 0) + 1,
    });
  }
  const order = (s: string) => {
    const i = SOURCE_ORDER.indexOf(s);
    return i < 0 ? SOURCE_ORDER.length : i;
  };
  const rows = [...rowMap.values()]
    .map((r, i) => ({ r, i }))
    .sort((a, b) => order(a.r.source) - order(b.r.source) || a.i - b.i)
    .map(({ r }) => {
      r.cells.sort((a, b) => a.colStart - b.colStart);
      return r;
    });
  // Flex factors summing to less than 1 would leave part of the row empty: scale them to sum to 100.
  const sum = columns.reduce((a, c) => a + c.weight, 0) || 1;
  const template = columns.map((c) => `minmax(3px, ${Number(((c.weight / sum) * 100).toFixed(3))}fr)`).join(" ");
  return { columns, template, rows, fromMs: bounds[0] as number, toMs: bounds[bounds.length - 1] as number };
}

/**
 * Labels under the map: at column starts, at least `minGap` (fraction of the width) apart, the first
 * with its date, later ones with the date when the day changes, else the time.
 */
export function axisTicks(layout: Layout, zone: string, minGap = 0.09): Tick[] {
  const total = layout.columns.reduce((s, c) => s + c.weight, 0);
  if (total <= 0) return [];
  // Where: column starts at least minGap apart; the end of the range wins over the last one before it.
  const kept: { pos: number; ms: number }[] = [];
  let acc = 0;
  for (const c of layout.columns) {
    const pos = acc / total;
    const last = kept[kept.length - 1];
    if (!last || pos - last.pos >= minGap) kept.push({ pos, ms: c.startMs });
    acc += c.weight;
  }
  while (kept.length > 1 && 1 - (kept[kept.length - 1] as { pos: number }).pos < minGap) kept.pop();
  kept.push({ pos: 1, ms: layout.toMs });
  // What: the date when the day changes (with the time unless midnight), else the time.
  let lastDay = "";
  return kept.map(({ pos, ms: at }) => {
    const t = formatTimeMs(at, "minute", zone);
    const day = t.slice(0, 10);
    const time = t.slice(11);
    const label = day !== lastDay ? (time === "00:00" ? day : `${day} ${time}`) : time;
    lastDay = day;
    return { pos, label };
  });
}

/** A cell with the live progress laid over the last overview (the window being read, its count so far). */
export function withProgress(coverage: Coverage[], p: CollectProgress | null): Coverage[] {
  if (!p) return coverage;
  return coverage.map((c) =>
    c.window_id === p.window_id && statusOf(c.status) !== "done" && statusOf(c.status) !== "failed"
      ? { ...c, status: "running", records: Math.max(c.records, p.window_records), server_count: p.window_server_count ?? c.server_count }
      : c,
  );
}

// ---- per source and for the whole run

export interface SourceTally {
  source: string;
  label: string;
  total: number;
  /** Finished one way or another: collected, failed or skipped. */
  finished: number;
  done: number;
  failed: number;
  skipped: number;
  records: number;
}

export function tallyBySource(coverage: Coverage[]): SourceTally[] {
  const map = new Map<string, SourceTally>();
  for (const c of coverage) {
    let t = map.get(c.source);
    if (!t) {
      t = { source: c.source, label: sourceName(c.source), total: 0, finished: 0, done: 0, failed: 0, skipped: 0, records: 0 };
      map.set(c.source, t);
    }
    const st = statusOf(c.status);
    t.total++;
    t.records += c.records;
    if (st === "done") t.done++;
    if (st === "failed") t.failed++;
    if (st === "skipped") t.skipped++;
    if (st === "done" || st === "failed" || st === "skipped") t.finished++;
  }
  return [...map.values()].sort((a, b) => {
    const i = SOURCE_ORDER.indexOf(a.source);
    const j = SOURCE_ORDER.indexOf(b.source);
    return (i < 0 ? 9 : i) - (j < 0 ? 9 : j);
  });
}

export interface CoverageSummary {
  counts: Record<CellStatus, number>;
  gaps: number;
  /** What the map means for the case, worst first. */
  sentences: string[];
  /** Worst state: "ok" (all collected, or on its way, no gap), "warn" (skipped, gaps, unfinished) or "bad" (failed). */
  tone: "ok" | "warn" | "bad";
}

/** `running`: a collection is reading the map right now (windows still to read are expected, not a gap). */
export function summarize(coverage: Coverage[], running = false): CoverageSummary {
  const counts: Record<CellStatus, number> = { done: 0, running: 0, planned: 0, failed: 0, skipped: 0 };
  let gaps = 0;
  for (const c of coverage) {
    counts[statusOf(c.status)]++;
    if (hasGap(c)) gaps++;
  }
  const s: string[] = [];
  if (counts.failed > 0)
    s.push(
      `${plural(counts.failed, "window", "windows")} failed: events in ${counts.failed === 1 ? "it" : "them"} may be missing from the case.${running ? "" : " Resume the collection to try again."}`,
    );
  if (counts.skipped > 0)
    s.push(
      `${plural(counts.skipped, "window was", "windows were")} skipped: Microsoft does not offer ${counts.skipped === 1 ? "it" : "them"} from that source (for example older than it keeps). Events there are not in the case from that source.`,
    );
  if (gaps > 0) s.push(`${plural(gaps, "collected window has", "collected windows have")} a gap: click ${gaps === 1 ? "it" : "one"} to see what is missing.`);
  const waiting = counts.planned + counts.running;
  if (running && waiting > 0) s.push(`${plural(waiting, "window is", "windows are")} still to read.`);
  else if (counts.planned > 0) s.push(`${plural(counts.planned, "window is", "windows are")} not collected yet. Resume the collection to read ${counts.planned === 1 ? "it" : "them"}.`);
  if (s.length === 0 && coverage.length > 0) s.push("Every window was collected and everything the server listed was received.");
  const tone = counts.failed > 0 ? "bad" : counts.skipped + gaps + (running ? 0 : counts.planned + counts.running) === 0 ? "ok" : "warn";
  return { counts, gaps, sentences: s, tone };
}

const RUN_STATUS: Record<string, string> = {
  running: "Running",
  completed: "Completed",
  incomplete: "Stopped before the end",
  failed: "Failed",
};

export function runStatusLabel(status: string): string {
  return RUN_STATUS[status] ?? status;
}

export function runTone(status: string): "ok" | "warn" | "bad" | "info" {
  if (status === "completed") return "ok";
  if (status === "failed") return "bad";
  if (status === "running") return "info";
  return "warn";
}

/** "Management Activity API, Graph audit log query" for a run's sources. */
export function runSources(r: Pick<RunSummary, "sources">): string {
  return r.sources.map(sourceName).join(", ");
}
