// Small conversions for annotations: event ids are time keys, notes on ranges take UTC times as typed.

import { isoMs } from "./query";

const EPOCH_2000_MS = 946_684_800_000n;

/** The time an event id stands for: ids are `((ms − 2000-01-01) << 20) | sequence`. */
export function eventIdMs(id: string): number | null {
  if (!/^-?\d+$/.test(id.trim())) return null;
  try {
    const ms = Number((BigInt(id.trim()) >> 20n) + EPOCH_2000_MS);
    return Number.isFinite(ms) ? ms : null;
  } catch {
    return null;
  }
}

/**
 * `2025-12-03 07:31` / `… 07:31:34` in UTC, always (notes on ranges are typed in UTC and searches with
 * after:/before: are UTC, whatever zone the timeline displays). "" for a time JavaScript cannot show.
 */
export function utcText(ms: number, precision: "minute" | "second" = "second"): string {
  if (!Number.isFinite(ms)) return "";
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "";
  const iso = d.toISOString(); // 2025-12-03T07:31:34.123Z (years 0–9999)
  return `${iso.slice(0, 10)} ${iso.slice(11, precision === "minute" ? 16 : 19)}`;
}

/** An ISO time from the engine as `2025-12-03 07:31 UTC`; the text itself if it cannot be read. */
export function isoUtcText(iso: string, precision: "minute" | "second" = "minute"): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${utcText(ms, precision)} UTC`;
}

/** The query for a time range, bounds included. */
export function rangeQuery(startMs: number, endMs: number): string {
  return `after:${isoMs(startMs)} before:${isoMs(endMs)}`;
}
