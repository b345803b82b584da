// The histogram's axis labels: evenly spaced moments from the chart's start to its end, in the display
// zone, each as precise as the spacing needs (days, minutes, seconds, milliseconds) so that no two
// labels read the same, even over a range of one second.

import { formatTimeMs, type TimePrecision } from "./format";

export interface AxisTick {
  /** Position from the left, in px. */
  x: number;
  ms: number;
  text: string;
  anchor: "start" | "middle" | "end";
}

/** The precision that tells moments `stepMs` apart. */
export function tickPrecision(stepMs: number): TimePrecision {
  if (stepMs >= 60_000) return "minute";
  if (stepMs >= 1_000) return "second";
  return "ms";
}

/**
 * At most `n` intervals, as many as give round steps (whole milliseconds; whole seconds from a second
 * on; whole minutes from a minute on), so labels read .200, .400 rather than .167, .333; `n` when none do.
 */
export function niceCount(spanMs: number, n: number): number {
  for (let m = n; m >= 2; m--) {
    const step = spanMs / m;
    if (!Number.isInteger(step) || step <= 0) continue;
    const unit = step >= 60_000 ? 60_000 : step >= 1_000 ? 1_000 : 1;
    if (step % unit === 0) return m;
  }
  return n;
}

/**
 * At most `n` + 1 labels over `width` px for a chart from `startMs` to `endMs` with buckets of `bucketMs`. Dates
 * alone when buckets are a day or longer; otherwise the date is written on the first label and where it
 * changes, the others give the time alone. A label that would repeat the one before it (a DST fall-back
 * hour, a range shorter than the labels are precise) is left out.
 */
export function axisTicks(startMs: number, endMs: number, bucketMs: number, n: number, width: number, zone: string): AxisTick[] {
  const span = endMs - startMs;
  if (!(width > 0) || !(n >= 1) || !Number.isFinite(span) || span < 0) return [];
  n = niceCount(span, n);
  const step = span / n;
  const precision = tickPrecision(step);
  const out: AxisTick[] = [];
  const seen = new Set<string>();
  const days = bucketMs >= 86_400_000;
  let lastDay = "";
  for (let k = 0; k <= n; k++) {
    const ms = Math.round(startMs + step * k);
    const full = formatTimeMs(ms, precision, zone);
    const key = days ? full.slice(0, 10) : full;
    if (full === "" || seen.has(key)) continue;
    seen.add(key);
    // The date once, then only when it changes: "2025-12-01 08:48:54.000", "08:48:54.200", …
    const day = full.slice(0, 10);
    const text = days || day !== lastDay ? key : full.slice(11);
    lastDay = day;
    out.push({ x: (width * k) / n, ms, text, anchor: k === 0 ? "start" : k === n ? "end" : "middle" });
  }
  return out;
}

/** How precisely a bucket's start is said when hovering it: seconds for buckets under a minute. */
export function bucketPrecision(bucketMs: number): TimePrecision {
  return bucketMs < 60_000 ? "second" : "minute";
}
