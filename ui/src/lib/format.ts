// Display formatting. Times are UTC unless a function says it follows the display time zone (the
// investigator's choice, zone.svelte.ts: the timeline, the histogram, the status bar); every time says
// which zone it is in. Numbers follow the OS locale (display only: exports use ISO 8601 and plain digits).

import { displayZone } from "./zone.svelte";

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

export type TimePrecision = "minute" | "second" | "ms";

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  /** Minutes east of UTC at that moment. */
  offset: number;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock reading of a moment in a zone (UTC without Intl). */
function wallClock(ms: number, zone: string): Wall {
  const d = new Date(ms);
  const utc: Wall = {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ms: d.getUTCMilliseconds(),
    offset: 0,
  };
  if (zone === "UTC") return utc;
  let f = zoneFormats.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch {
      return utc;
    }
    zoneFormats.set(zone, f);
  }
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(d)) parts[p.type] = p.value;
  const w: Wall = {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    ms: utc.ms,
    offset: 0,
  };
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.ms);
  w.offset = Math.round((asUtc - ms) / 60_000);
  return w;
}

/** "UTC" for UTC, else the offset at that moment: "UTC-05:00", "UTC+05:30". */
export function zoneSuffix(ms: number, zone: string = displayZone()): string {
  if (zone === "UTC" || !Number.isFinite(ms)) return "UTC";
  const off = wallClock(ms, zone).offset;
  if (off === 0) return "UTC+00:00";
  const a = Math.abs(off);
  return `UTC${off < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/**
 * `2025-12-03 07:31:34.123` in `zone` (UTC unless given), without a zone suffix (the column header, or
 * the caller, says which zone).
 */
export function formatTimeMs(ms: number, precision: TimePrecision = "ms", zone: string = "UTC"): string {
  if (!Number.isFinite(ms)) return "";
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "";
  const w = wallClock(ms, zone);
  const date = `${w.year < 0 ? "-" : ""}${pad(Math.abs(w.year), 4)}-${pad(w.month)}-${pad(w.day)}`;
  let time = `${pad(w.hour)}:${pad(w.minute)}`;
  if (precision !== "minute") time += `:${pad(w.second)}`;
  if (precision === "ms") time += `.${pad(w.ms, 3)}`;
  return `${date} ${time}`;
}

/** A moment with its zone: "2025-12-03 07:31:34.123 UTC", "2025-12-03 02:31:34.123 UTC-05:00". */
export function formatTimeZoned(ms: number, precision: TimePrecision = "ms", zone: string = displayZone()): string {
  const t = formatTimeMs(ms, precision, zone);
  return t === "" ? "" : `${t} ${zoneSuffix(ms, zone)}`;
}

/** The timeline's time cell: UTC as is (the header says UTC), other zones with the offset (DST moves it). */
export function formatTimeCell(ms: number, zone: string = displayZone()): string {
  const t = formatTimeMs(ms, "ms", zone);
  if (t === "" || zone === "UTC") return t;
  return `${t} ${zoneSuffix(ms, zone).slice(3)}`;
}

/** Formats an ISO 8601 string; returns the input unchanged if it cannot be parsed (never hide data). */
export function formatIso(iso: string | null | undefined, precision: TimePrecision = "ms"): string {
  if (iso === null || iso === undefined || iso === "") return "";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return formatTimeMs(ms, precision);
}

/**
 * An ISO string as a moment in the display zone with its zone ("2025-12-03 02:31:34 UTC-05:00"); the
 * input unchanged if it cannot be parsed (never hide data).
 */
export function formatIsoZoned(iso: string | null | undefined, precision: TimePrecision = "ms", zone: string = displayZone()): string {
  if (iso === null || iso === undefined || iso === "") return "";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return formatTimeZoned(ms, precision, zone);
}

/** Same as formatIso with " UTC" appended, for places without a UTC column header. */
export function formatIsoUtc(iso: string | null | undefined, precision: TimePrecision = "ms"): string {
  const s = formatIso(iso, precision);
  if (s === "" || s === iso) return s;
  return `${s} UTC`;
}

/** "2025-12-01 08:00 – 2025-12-03 17:45 UTC", or "" when there is nothing to span. */
export function formatSpan(first: string | null | undefined, last: string | null | undefined): string {
  return formatSpanZoned(first, last, "UTC");
}

/** formatSpan in the display zone: "2025-12-01 03:00 – 2025-12-03 12:45 UTC-05:00" (the offset at the end). */
export function formatSpanZoned(first: string | null | undefined, last: string | null | undefined, zone: string = displayZone()): string {
  const fmt = (iso: string | null | undefined): string => {
    if (!iso) return "";
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? iso : formatTimeMs(ms, "minute", zone);
  };
  const a = fmt(first);
  const b = fmt(last);
  if (a === "" && b === "") return "";
  const end = Date.parse((last || first) as string);
  const suffix = Number.isNaN(end) ? "UTC" : zoneSuffix(end, zone);
  if (a === "" || b === "" || a === b) return `${a || b} ${suffix}`;
  return `${a} – ${b} ${suffix}`;
}

const numberFormats = new Map<string, Intl.NumberFormat>();

/**
 * Locale-formatted integer: 100000 → "100,000" in en-US. A locale that groups no digits at all (the
 * POSIX locale a Linux session without a language setting gives WebKit: "9900113") is replaced by
 * en-US: counts of millions must stay readable.
 */
export function formatCount(n: number, locale?: string): string {
  const key = locale ?? "";
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
    if (/^\d+$/.test(f.format(10_000_000))) f = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
    numberFormats.set(key, f);
  }
  return f.format(n);
}

/** "1 file", "3 files", "1,204 events". */
export function plural(n: number, one: string, many: string, locale?: string): string {
  return `${formatCount(n, locale)} ${n === 1 ? one : many}`;
}

const BYTE_UNITS = ["bytes", "KB", "MB", "GB", "TB"] as const;

/** Decimal units, one fraction digit above 1 KB: "512 bytes", "12.4 MB". */
export function formatBytes(n: number, locale?: string): string {
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1000) return `${formatCount(n, locale)} ${n === 1 ? "byte" : "bytes"}`;
  let v = n;
  let unit = 0;
  while (v >= 1000 && unit < BYTE_UNITS.length - 1) {
    v /= 1000;
    unit++;
  }
  const f = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return `${f.format(v)} ${BYTE_UNITS[unit]}`;
}

/** Human duration: "850 ms", "4.2 s", "3 min 12 s", "2 h 5 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 60) return `${totalS} s`;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return s > 0 ? `${m} min ${s} s` : `${m} min`;
}

/** "203.0.113.50:443", "[2001:db8::1]:443", or the address alone. */
export function formatEndpoint(ip: string | null | undefined, port: number | null | undefined): string {
  if (!ip) return "";
  if (port === null || port === undefined) return ip;
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Whole-number percentage for progress bars, clamped to 0..100. */
export function percent(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

/**
 * Time left in words, rounded the way people say it: "a few seconds left", "less than a minute left",
 * "about 2 min left", "about 1 h 20 min left". "" when there is no estimate yet.
 */
export function formatEta(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "";
  if (ms < 15_000) return "a few seconds left";
  if (ms < 50_000) return "less than a minute left";
  const min = Math.round(ms / 60_000);
  if (min < 60) return `about ${Math.max(1, min)} min left`;
  // Over an hour: to the nearest 10 minutes; an estimate this far out is no better than that.
  const tens = Math.round(ms / 600_000) * 10;
  const h = Math.floor(tens / 60);
  const m = tens % 60;
  return m > 0 ? `about ${h} h ${m} min left` : `about ${h} h left`;
}

/** "41,200 records/s"; "" before there is a rate. */
export function formatRate(perSecond: number, unit = "records", locale?: string): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return "";
  const v = perSecond >= 100 ? Math.round(perSecond / 10) * 10 : Math.round(perSecond);
  return `${formatCount(v, locale)} ${unit}/s`;
}
