// What the collection screen says while a collection runs: bars, facts, the current window; and
// the throttle that keeps the timeline's refresh to one every couple of seconds.

import type { CollectProgress, RunReport } from "./collectBindings";
import { formatCount, formatDuration, formatEta, formatRate, formatSpanZoned, percent, plural } from "./format";
import { rowLabel } from "./coverage";

/** Whole-run bar: windows finished of windows planned. */
export function overallPercent(p: CollectProgress): number {
  return percent(p.windows_done, p.windows_total);
}

/** The current window's bar, or null while the server has not said how many records it holds. */
export function windowPercent(p: CollectProgress): number | null {
  if (p.window_server_count === null || p.window_server_count <= 0) return null;
  return percent(p.window_records, p.window_server_count);
}

/** "about 2 min left" from the engine's seconds; "" until it can estimate. */
export function etaText(etaS: number | null): string {
  if (etaS === null || !Number.isFinite(etaS)) return "";
  return formatEta(etaS * 1000);
}

/** The facts line under the overall bar. */
export function progressFacts(p: CollectProgress): string[] {
  const out = [`${formatCount(p.windows_done)} of ${plural(p.windows_total, "window", "windows")} done`];
  out.push(`${plural(p.records, "record", "records")} received`);
  out.push(`${plural(p.new_events, "new event", "new events")}`);
  const rate = formatRate(p.records_per_s);
  if (rate) out.push(rate);
  return out;
}

/** "Graph audit log query, 2025-12-01 00:00 – 2025-12-02 00:00 UTC". */
export function currentWindowText(p: CollectProgress, zone: string): string {
  const span = formatSpanZoned(p.window_start, p.window_end, zone);
  return `${rowLabel(p.source, p.scope)}, ${span}`;
}

/** "312 of 1,204 records" or "312 records so far" when the server did not say. */
export function windowCountText(p: CollectProgress): string {
  if (p.window_server_count === null) return `${plural(p.window_records, "record", "records")} so far`;
  return `${formatCount(p.window_records)} of ${plural(p.window_server_count, "record", "records")}`;
}

/** One sentence for a finished run. */
export function reportSentence(r: RunReport): string {
  const head = r.stopped_early ? "The collection was stopped" : "The collection finished";
  const took = formatDuration(r.elapsed_ms);
  const parts = [`${plural(r.records, "record", "records")} received`, `${plural(r.new_events, "new event", "new events")} added to the case`];
  if (r.duplicates > 0) parts.push(`${formatCount(r.duplicates)} already in it`);
  if (r.errors > 0) parts.push(`${formatCount(r.errors)} unreadable (kept as raw bytes)`);
  const tail = r.stopped_early ? " Resume continues where it stopped; nothing is read twice." : "";
  return `${head}${took ? ` after ${took}` : ""}: ${parts.join(", ")}.${tail}`;
}

export interface Throttle {
  /** Runs `fn` now if the last run is `ms` ago, else once when that time has passed. */
  call(): void;
  /** Runs `fn` now (if a call is waiting or `always`), cancelling the waiting one. */
  flush(always?: boolean): void;
  cancel(): void;
}

/** Leading and trailing throttle: at most one run of `fn` per `ms`, the last call never lost. */
export function throttle(
  fn: () => void,
  ms: number,
  clock: { now: () => number; setTimeout: (f: () => void, ms: number) => unknown; clearTimeout: (h: unknown) => void } = {
    now: () => Date.now(),
    setTimeout: (f, t) => setTimeout(f, t),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  },
): Throttle {
  let last = -Infinity;
  let timer: unknown = null;
  const run = () => {
    timer = null;
    last = clock.now();
    fn();
  };
  return {
    call() {
      if (timer !== null) return;
      const wait = last + ms - clock.now();
      if (wait <= 0) run();
      else timer = clock.setTimeout(run, wait);
    },
    flush(always = false) {
      const waiting = timer !== null;
      if (waiting) clock.clearTimeout(timer);
      timer = null;
      if (waiting || always) run();
    },
    cancel() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
  };
}
