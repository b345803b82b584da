import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatEndpoint,
  formatEta,
  formatRate,
  formatIso,
  formatIsoUtc,
  formatSpan,
  formatTimeMs,
  percent,
  plural,
} from "./format";

describe("time formatting (always UTC)", () => {
  it("formats epoch ms with milliseconds", () => {
    expect(formatTimeMs(Date.UTC(2025, 11, 3, 7, 31, 34, 123))).toBe("2025-12-03 07:31:34.123");
    expect(formatTimeMs(Date.UTC(2025, 0, 1, 0, 0, 0, 5))).toBe("2025-01-01 00:00:00.005");
  });
  it("supports minute and second precision", () => {
    const ms = Date.UTC(2025, 11, 3, 7, 31, 34, 123);
    expect(formatTimeMs(ms, "minute")).toBe("2025-12-03 07:31");
    expect(formatTimeMs(ms, "second")).toBe("2025-12-03 07:31:34");
  });
  it("formats ISO strings and keeps the zone explicit", () => {
    expect(formatIso("2025-12-03T07:31:34.123Z")).toBe("2025-12-03 07:31:34.123");
    expect(formatIso("2025-12-03T08:31:34.123+01:00")).toBe("2025-12-03 07:31:34.123");
    expect(formatIsoUtc("2025-12-03T07:31:34.123Z")).toBe("2025-12-03 07:31:34.123 UTC");
  });
  it("never hides a value it cannot parse", () => {
    expect(formatIso("not a time")).toBe("not a time");
    expect(formatIsoUtc("not a time")).toBe("not a time");
    expect(formatIso(null)).toBe("");
    expect(formatTimeMs(Number.NaN)).toBe("");
  });
  it("formats a span of matching events", () => {
    expect(formatSpan("2025-12-01T08:00:12.000Z", "2025-12-03T17:45:59.999Z")).toBe("2025-12-01 08:00 – 2025-12-03 17:45 UTC");
    expect(formatSpan("2025-12-01T08:00:00.000Z", "2025-12-01T08:00:30.000Z")).toBe("2025-12-01 08:00 UTC");
    expect(formatSpan(null, null)).toBe("");
  });
});

describe("numbers", () => {
  it("uses the locale for counts", () => {
    expect(formatCount(100000, "en-US")).toBe("100,000");
    expect(formatCount(1204, "de-DE")).toBe("1.204");
    // The POSIX locale groups nothing: millions would be unreadable.
    expect(formatCount(9900113, "en-US-u-va-posix")).toBe("9,900,113");
    expect(plural(1, "event", "events", "en-US")).toBe("1 event");
    expect(plural(1204, "event", "events", "en-US")).toBe("1,204 events");
    expect(plural(0, "file", "files", "en-US")).toBe("0 files");
  });
  it("formats bytes in decimal units", () => {
    expect(formatBytes(1, "en-US")).toBe("1 byte");
    expect(formatBytes(512, "en-US")).toBe("512 bytes");
    expect(formatBytes(12_400_000, "en-US")).toBe("12.4 MB");
    expect(formatBytes(1_500, "en-US")).toBe("1.5 KB");
    expect(formatBytes(-1)).toBe("");
  });
  it("formats durations for people", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(4_250)).toBe("4.2 s");
    expect(formatDuration(42_000)).toBe("42 s");
    expect(formatDuration(192_000)).toBe("3 min 12 s");
    expect(formatDuration(180_000)).toBe("3 min");
    expect(formatDuration(7_500_000)).toBe("2 h 5 min");
  });
  it("formats endpoints, bracketing IPv6", () => {
    expect(formatEndpoint("203.0.113.50", 443)).toBe("203.0.113.50:443");
    expect(formatEndpoint("2001:db8::1", 443)).toBe("[2001:db8::1]:443");
    expect(formatEndpoint("203.0.113.50", null)).toBe("203.0.113.50");
    expect(formatEndpoint(null, 443)).toBe("");
  });
  it("clamps percentages", () => {
    expect(percent(5, 10)).toBe(50);
    expect(percent(5, 0)).toBe(0);
    expect(percent(20, 10)).toBe(100);
  });
});

describe("import progress", () => {
  it("says how long is left the way people say it", () => {
    expect(formatEta(null)).toBe("");
    expect(formatEta(Number.NaN)).toBe("");
    expect(formatEta(-5)).toBe("");
    expect(formatEta(0)).toBe("a few seconds left");
    expect(formatEta(9_000)).toBe("a few seconds left");
    expect(formatEta(30_000)).toBe("less than a minute left");
    expect(formatEta(55_000)).toBe("about 1 min left");
    expect(formatEta(119_000)).toBe("about 2 min left");
    expect(formatEta(12 * 60_000 + 20_000)).toBe("about 12 min left");
    expect(formatEta(59 * 60_000 + 40_000)).toBe("about 1 h left");
    expect(formatEta(80 * 60_000)).toBe("about 1 h 20 min left");
    expect(formatEta(3 * 3_600_000 + 4 * 60_000)).toBe("about 3 h left");
  });
  it("formats a rate of records", () => {
    expect(formatRate(0)).toBe("");
    expect(formatRate(Number.NaN)).toBe("");
    expect(formatRate(7.4, "records", "en-US")).toBe("7 records/s");
    expect(formatRate(41_234.6, "records", "en-US")).toBe("41,230 records/s");
  });
});

describe("time formatting in another display zone", () => {
  it("shows wall-clock time with the offset of that moment (DST moves it)", async () => {
    const { formatTimeZoned, formatTimeCell, zoneSuffix } = await import("./format");
    const winter = Date.UTC(2025, 11, 3, 7, 31, 34, 123);
    const summer = Date.UTC(2025, 6, 3, 7, 31, 34, 123);
    expect(formatTimeMs(winter, "ms", "America/New_York")).toBe("2025-12-03 02:31:34.123");
    expect(formatTimeZoned(winter, "second", "America/New_York")).toBe("2025-12-03 02:31:34 UTC-05:00");
    expect(formatTimeZoned(summer, "second", "America/New_York")).toBe("2025-07-03 03:31:34 UTC-04:00");
    expect(formatTimeZoned(winter, "minute", "Asia/Kolkata")).toBe("2025-12-03 13:01 UTC+05:30");
    expect(formatTimeCell(winter, "Europe/Berlin")).toBe("2025-12-03 08:31:34.123 +01:00");
    expect(formatTimeCell(winter, "UTC")).toBe("2025-12-03 07:31:34.123");
    expect(zoneSuffix(winter, "UTC")).toBe("UTC");
    // Midnight in the zone is hour 00, not 24.
    expect(formatTimeMs(Date.UTC(2025, 11, 3, 5, 0, 0, 0), "minute", "America/New_York")).toBe("2025-12-03 00:00");
  });

  it("formats the engine's ISO times (Case home, annotations) in the display zone, unreadable text as is", async () => {
    const { formatIsoZoned } = await import("./format");
    const { setZoneChoice } = await import("./zone.svelte");
    const { logTime } = await import("./caseHome");
    expect(formatIsoZoned("2025-12-04T09:05:14.720Z", "second", "Europe/Berlin")).toBe("2025-12-04 10:05:14 UTC+01:00");
    expect(formatIsoZoned("not a time", "second", "Europe/Berlin")).toBe("not a time");
    expect(formatIsoZoned(null)).toBe("");
    setZoneChoice("America/New_York");
    try {
      expect(logTime("2025-12-04T09:05:14.720Z")).toBe("2025-12-04 04:05:14 UTC-05:00");
    } finally {
      setZoneChoice("UTC");
    }
    expect(logTime("2025-12-04T09:05:14.720Z")).toBe("2025-12-04 09:05:14 UTC");
  });
});
