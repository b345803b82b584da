// The mailbox view's times in the display zone: sessions and entries shown in it, the From/To fields
// read in it (the engine gets UTC), placeholders from the case's own span.
import { describe, expect, it } from "vitest";
import type { MailboxSession } from "./bindings";
import {
  boundIso,
  boundMs,
  dayOf,
  fieldsZoneLabel,
  formatBoundInput,
  mailboxRange,
  momentSpan,
  rangePlaceholders,
  rangeText,
  rezoneBounds,
  sessionSpan,
  timeOfDay,
  zoneLabel,
} from "./mailbox";

const NY = "America/New_York";
const KOL = "Asia/Kolkata";

describe("mailbox times in the display zone", () => {
  const first = Date.UTC(2018, 4, 14, 14, 10, 0);
  const s = { first_ms: first, last_ms: first + 8 * 60_000 } as MailboxSession;
  it("session spans and times of day follow the zone, the zone named at the end", () => {
    expect(sessionSpan(s, "UTC")).toBe("2018-05-14 14:10:00 – 14:18:00 UTC");
    expect(sessionSpan(s, NY)).toBe("2018-05-14 10:10:00 – 10:18:00 UTC-04:00");
    expect(sessionSpan(s, KOL)).toBe("2018-05-14 19:40:00 – 19:48:00 UTC+05:30");
    expect(timeOfDay(first + 800, NY)).toBe("10:10:00.800");
    expect(timeOfDay(first + 800, "UTC")).toBe("14:10:00.800");
    // Late in the UTC day is the next day in Kolkata.
    expect(dayOf(Date.UTC(2018, 4, 14, 20), KOL)).toBe("2018-05-15");
    expect(momentSpan(Date.UTC(2018, 4, 14, 20), Date.UTC(2018, 4, 14, 20, 5), KOL)).toBe("2018-05-15 01:30:00 – 01:35:00 UTC+05:30");
    expect(momentSpan(NaN, NaN, "UTC")).toBe("");
  });

  it("a typed From/To is a wall-clock time in the zone; a bare To date is the whole day", () => {
    expect(boundMs("", NY, false)).toBeNull();
    expect(boundMs("  ", NY, true)).toBeNull();
    expect(boundMs("2018-05-14", NY, false)).toBe(Date.UTC(2018, 4, 14, 4));
    expect(boundMs("2018-05-14", NY, true)).toBe(Date.UTC(2018, 4, 15, 4) - 1);
    expect(boundMs("2018-05-14", "UTC", true)).toBe(Date.UTC(2018, 4, 15) - 1);
    expect(boundMs("2018-05-14 10:00", NY, true)).toBe(Date.UTC(2018, 4, 14, 14));
    expect(boundMs("2018-05-14T10:00:30", NY, false)).toBe(Date.UTC(2018, 4, 14, 14, 0, 30));
    expect(boundMs("2018-05-14 10:00:30.25", NY, false)).toBe(Date.UTC(2018, 4, 14, 14, 0, 30, 250));
    expect(boundMs("2018-05-14 9:05", "UTC", false)).toBe(Date.UTC(2018, 4, 14, 9, 5));
    // A time with its own zone is read as written, whatever the display zone.
    expect(boundMs("2018-05-14T10:00Z", NY, false)).toBe(Date.UTC(2018, 4, 14, 10));
    expect(boundMs("2018-05-14T10:00:00.500+02:00", NY, false)).toBe(Date.UTC(2018, 4, 14, 8, 0, 0, 500));
    expect(boundMs("2018-05-14 12:00 +0530", "UTC", false)).toBe(Date.UTC(2018, 4, 14, 6, 30));
    // Not times.
    for (const bad of ["last tuesday", "2018-02-30", "2018-05-14 25:00", "14/05/2018", "2018-05-14.5", "2018-05-14 10:00.5"]) {
      expect(boundMs(bad, NY, false), bad).toBeUndefined();
    }
  });

  it("a zone change's text stands for exactly its moment until it is edited", () => {
    const endOfDay = Date.UTC(2018, 4, 15, 4) - 1;
    const text = formatBoundInput(endOfDay, "UTC");
    expect(text).toBe("2018-05-15 03:59:59");
    expect(boundMs(text, "UTC", true, { text, ms: endOfDay })).toBe(endOfDay);
    expect(boundMs("2018-05-15 03:59", "UTC", true, { text, ms: endOfDay })).toBe(Date.UTC(2018, 4, 15, 3, 59));
    expect(formatBoundInput(Date.UTC(2018, 4, 14, 14), NY)).toBe("2018-05-14 10:00");
  });

  it("the range: UTC ISO for the engine, problems in words with the zone named", () => {
    const r = mailboxRange("2018-05-14", "2018-05-14", NY, "2018-05-14");
    expect(r).toEqual({ fromMs: Date.UTC(2018, 4, 14, 4), toMs: Date.UTC(2018, 4, 15, 4) - 1 });
    if ("problem" in r) throw new Error("unexpected");
    expect(boundIso(r.fromMs)).toBe("2018-05-14T04:00:00.000Z");
    expect(boundIso(r.toMs)).toBe("2018-05-15T03:59:59.999Z");
    expect(boundIso(null)).toBeNull();
    expect(mailboxRange("", "", NY, "2018-05-14")).toEqual({ fromMs: null, toMs: null });
    const bad = mailboxRange("last tuesday", "", "UTC", "2025-12-01");
    expect(bad).toEqual({ problem: "From needs a date like 2025-12-01 or 2025-12-01 10:00 (in UTC); “last tuesday” is not one." });
    const badTo = mailboxRange("", "soon", NY, "2025-12-01");
    expect("problem" in badTo && badTo.problem).toBe("To needs a date like 2025-12-01 or 2025-12-01 10:00 (in America/New_York); “soon” is not one.");
    expect(mailboxRange("2018-05-15", "2018-05-14 10:00", "UTC", "x")).toEqual({ problem: "From is later than To. Swap the two times." });
  });

  it("the range as the summary shows it, and the zone's name", () => {
    const a = Date.UTC(2018, 4, 14, 4);
    const b = Date.UTC(2018, 4, 15, 4) - 1;
    expect(rangeText(a, b, NY)).toBe("2018-05-14 00:00 – 2018-05-14 23:59:59 UTC-04:00");
    expect(rangeText(a, null, "UTC")).toBe("from 2018-05-14 04:00 UTC");
    expect(rangeText(null, b, "UTC")).toBe("until 2018-05-15 03:59:59 UTC");
    expect(rangeText(null, null, "UTC")).toBe("");
    expect(zoneLabel("UTC")).toBe("UTC");
    expect(zoneLabel(NY, Date.UTC(2025, 0, 1))).toBe("America/New_York (UTC-05:00)");
    expect(zoneLabel(NY, Date.UTC(2025, 6, 1))).toBe("America/New_York (UTC-04:00)");
  });

  it("placeholders come from the case's span in the zone, or are neutral", () => {
    expect(rangePlaceholders("2018-05-14T08:55:00.120Z", "2018-05-14T16:02:10.500Z", "UTC")).toEqual({ from: "2018-05-14 08:55", to: "2018-05-14 16:03" });
    expect(rangePlaceholders("2018-05-14T08:55:00.120Z", "2018-05-14T16:02:00.000Z", NY)).toEqual({ from: "2018-05-14 04:55", to: "2018-05-14 12:02" });
    expect(rangePlaceholders(null, null, "UTC")).toEqual({ from: "YYYY-MM-DD hh:mm", to: "YYYY-MM-DD hh:mm" });
    expect(rangePlaceholders("garbage", "2018-05-14T16:02:00Z", "UTC")).toEqual({ from: "YYYY-MM-DD hh:mm", to: "YYYY-MM-DD hh:mm" });
  });

  it("a zone change rewrites typed bounds for the same moments, pinned to the millisecond", () => {
    const typed = { from: "2018-05-14 10:00:05.250", to: "2018-05-14", fromPin: null, toPin: null };
    const k = rezoneBounds(typed, "UTC", KOL);
    expect(k.from).toBe("2018-05-14 15:30:05");
    expect(k.to).toBe("2018-05-15 05:29:59");
    // The pins keep what the text rounded: back in UTC the fraction and the whole day are still there.
    expect(boundMs(k.from, KOL, false, k.fromPin)).toBe(Date.UTC(2018, 4, 14, 10, 0, 5, 250));
    const back = rezoneBounds(k, KOL, "UTC");
    expect(boundMs(back.to, "UTC", true, back.toPin)).toBe(Date.UTC(2018, 4, 15) - 1);
    // Empty fields and text that is not a time stay as typed.
    expect(rezoneBounds({ from: "", to: "later", fromPin: null, toPin: null }, "UTC", KOL)).toEqual({ from: "", to: "later", fromPin: null, toPin: null });
  });
  it("the fields' zone is named with its offset at the typed time, else at the fallback", () => {
    expect(fieldsZoneLabel("2018-01-10 09:00", "", NY, null)).toBe("America/New_York (UTC-05:00)");
    expect(fieldsZoneLabel("", "", NY, "2018-05-14T16:02:00Z")).toBe("America/New_York (UTC-04:00)");
    expect(fieldsZoneLabel("", "", "UTC", null)).toBe("UTC");
  });
});
