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

/** `2025-12-03 07:31:34` (UTC, for an input the investigator edits). */
export function utcInput(ms: number): string {
  return utcText(ms, "second");
}

/**
 * Reads a UTC time typed as `2025-12-03`, `2025-12-03 07:31`, `2025-12-03T07:31:34.5` (a trailing `Z`
 * or `UTC` is allowed). A bare date is the start of the day, or its last millisecond for `endOfDay`.
 */
export function parseUtcInput(text: string, endOfDay = false): number | null {
  const t = text.trim().replace(/\s*(Z|UTC)$/i, "");
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/.exec(t);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), Number((frac ?? "0").padEnd(3, "0")));
  if (Number.isNaN(ms)) return null;
  // Reject dates that rolled over (2025-02-30).
  const back = new Date(ms);
  if (back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d)) return null;
  if (h === undefined && endOfDay) return ms + 86_399_999;
  return ms;
}

/** The query for a time range, bounds included. */
export function rangeQuery(startMs: number, endMs: number): string {
  return `after:${isoMs(startMs)} before:${isoMs(endMs)}`;
}
