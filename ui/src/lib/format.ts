// Display formatting. Times are always UTC and always say so; numbers follow the OS locale
// (display only: exports use ISO 8601 and plain digits).

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

export type TimePrecision = "minute" | "second" | "ms";

/** `2025-12-03 07:31:34.123` (UTC, no zone suffix: the column header says UTC). */
export function formatTimeMs(ms: number, precision: TimePrecision = "ms"): string {
  if (!Number.isFinite(ms)) return "";
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "";
  const year = d.getUTCFullYear();
  const date = `${year < 0 ? "-" : ""}${pad(Math.abs(year), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  let time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  if (precision !== "minute") time += `:${pad(d.getUTCSeconds())}`;
  if (precision === "ms") time += `.${pad(d.getUTCMilliseconds(), 3)}`;
  return `${date} ${time}`;
}

/** Formats an ISO 8601 string; returns the input unchanged if it cannot be parsed (never hide data). */
export function formatIso(iso: string | null | undefined, precision: TimePrecision = "ms"): string {
  if (iso === null || iso === undefined || iso === "") return "";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return formatTimeMs(ms, precision);
}

/** Same as formatIso with " UTC" appended, for places without a UTC column header. */
export function formatIsoUtc(iso: string | null | undefined, precision: TimePrecision = "ms"): string {
  const s = formatIso(iso, precision);
  if (s === "" || s === iso) return s;
  return `${s} UTC`;
}

/** "2025-12-01 08:00 – 2025-12-03 17:45 UTC", or "" when there is nothing to span. */
export function formatSpan(first: string | null | undefined, last: string | null | undefined): string {
  const a = formatIso(first, "minute");
  const b = formatIso(last, "minute");
  if (a === "" && b === "") return "";
  if (a === "" || b === "" || a === b) return `${a || b} UTC`;
  return `${a} – ${b} UTC`;
}

const numberFormats = new Map<string, Intl.NumberFormat>();

/** Locale-formatted integer: 100000 → "100,000" in en-US. */
export function formatCount(n: number, locale?: string): string {
  const key = locale ?? "";
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
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
