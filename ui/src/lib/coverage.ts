// The coverage map of a collection as pure data: one row per source (and scope: content type or
// mailbox), time columns cut at every window boundary, cells coloured by status with a word and a
// pattern each (never colour alone), and the sentences that say what a window cannot vouch for.

import type { CollectProgress, Coverage, RunSummary } from "./collectBindings";
import { formatCount, formatSpanZoned, formatTimeMs, plural } from "./format";
import { parseRangeInput } from "./collectForm";

export type CellStatus = "done" | "running" | "planned" | "failed" | "skipped";

export interface StatusInfo {
  label: string;
  /** One sentence for the legend and the details. */
  meaning: string;
}

export const STATUS_INFO: Record<CellStatus, StatusInfo> = {
  done: { label: "Collected", meaning: "Every record the server listed for this window was received." },
  running: { label: "Collecting now", meaning: "Tidemark is reading this window right now." },
  planned: { label: "Not collected yet", meaning: "This window was not read yet, or only part of it (the collection stopped). Resume the collection to read the rest." },
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
  "entra-signins": "Entra ID sign-in logs",
  "entra-audits": "Entra ID audit log",
};
const SOURCE_ORDER = ["management", "graph", "activities", "entra-signins", "entra-audits"];

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
  /** How the label sits on its mark (the edges keep labels inside). */
  align: "start" | "center" | "end";
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

/** Where a moment falls across the map (0..1), columns being drawn at their weights. */
export function positionOf(layout: Layout, t: number): number {
  const total = layout.columns.reduce((a, c) => a + c.weight, 0);
  if (total <= 0) return 0;
  if (t <= layout.fromMs) return 0;
  if (t >= layout.toMs) return 1;
  let acc = 0;
  for (const c of layout.columns) {
    if (t < c.endMs) return (acc + ((t - c.startMs) / (c.endMs - c.startMs)) * c.weight) / total;
    acc += c.weight;
  }
  return 1;
}

const HOUR = 3_600_000;
/** Approximate width of a tick label's character at 11 px (tabular digits). */
const CHAR_PX = 6.6;

/**
 * Marks under the map at round times of the display zone: midnights (every day, or every few days
 * when they would crowd), or hours for a short range. Labels are dates ("2025-12-01"), or times with
 * the date where the day changes. Marks closer than their labels are dropped. `widthPx`: the width of
 * the time area.
 */
export function axisTicks(layout: Layout, zone: string, widthPx = 1000): Tick[] {
  if (layout.columns.length === 0 || !(layout.toMs > layout.fromMs)) return [];
  const span = layout.toMs - layout.fromMs;
  const dayOf = (t: number) => formatTimeMs(t, "minute", zone).slice(0, 10);
  const midnight = (day: string) => parseRangeInput(day, zone);
  const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const marks: { t: number; label: string }[] = [];
  if (span >= 36 * HOUR) {
    // Whole days; every k-th so that date labels fit.
    const days = span / (24 * HOUR);
    const fit = Math.max(1, Math.floor(widthPx / (10 * CHAR_PX + 14)));
    const k = [1, 2, 3, 7, 14, 30, 60, 90, 180, 365].find((x) => days / x <= fit) ?? 365;
    let day = dayOf(layout.fromMs);
    let i = 0;
    for (let guard = 0; guard < 5000; guard++) {
      const t = midnight(day);
      if (t === null || t > layout.toMs) break;
      if (t >= layout.fromMs && i % k === 0) marks.push({ t, label: day });
      if (t >= layout.fromMs) i++;
      day = nextDay(day);
    }
  } else {
    const hours = span / HOUR;
    const fit = Math.max(1, Math.floor(widthPx / (5 * CHAR_PX + 14)));
    const step = [1, 2, 3, 6, 12].find((x) => hours / x <= fit) ?? 12;
    let day = dayOf(layout.fromMs);
    let lastDay = "";
    for (let guard = 0; guard < 200; guard++) {
      let past = false;
      for (let h = 0; h < 24; h += step) {
        const t = parseRangeInput(`${day} ${String(h).padStart(2, "0")}:00`, zone);
        if (t === null || t < layout.fromMs) continue;
        if (t > layout.toMs) {
          past = true;
          break;
        }
        const label = day !== lastDay ? `${day} ${String(h).padStart(2, "0")}:00` : `${String(h).padStart(2, "0")}:00`;
        lastDay = day;
        marks.push({ t, label });
      }
      if (past) break;
      day = nextDay(day);
    }
  }
  // Thin: each label needs its width (half on each side of its mark) and a little air.
  const out: Tick[] = [];
  let lastRight = -Infinity;
  for (const m of marks) {
    const pos = positionOf(layout, m.t);
    const w = m.label.length * CHAR_PX;
    const x = pos * widthPx;
    const align: Tick["align"] = x < w / 2 ? "start" : x > widthPx - w / 2 ? "end" : "center";
    const left = align === "start" ? x : align === "end" ? x - w : x - w / 2;
    if (left < lastRight + 12) continue;
    out.push({ pos, label: m.label, align });
    lastRight = left + w;
  }
  return out;
}

/** A cell with the live progress laid over the last overview (the window being read, its count so far). */
/**
 * The map as it stands when nothing runs: a window the ledger still calls `running` was cut off
 * (Stop, a crash, the app closed) and waits for Resume like a planned one.
 */
export function settled(coverage: Coverage[], running: boolean): Coverage[] {
  return running ? coverage : coverage.map((c) => (c.status === "running" ? { ...c, status: "planned" } : c));
}

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
