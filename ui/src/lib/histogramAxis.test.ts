import { describe, expect, it } from "vitest";
import { axisTicks, bucketPrecision, niceCount, tickPrecision } from "./histogramAxis";

const T = Date.UTC(2025, 11, 3, 7, 31, 34);

describe("histogram axis labels", () => {
  it("over one second, labels go to the millisecond and never repeat", () => {
    const ticks = axisTicks(T, T + 1000, 1000, 6, 900, "UTC");
    const texts = ticks.map((t) => t.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts).toEqual(["2025-12-03 07:31:34.000", "07:31:34.200", "07:31:34.400", "07:31:34.600", "07:31:34.800", "07:31:35.000"]);
    expect(ticks[0]?.anchor).toBe("start");
    expect(ticks.at(-1)?.anchor).toBe("end");
    expect(ticks.at(-1)?.x).toBe(900);
  });
  it("over a few seconds, to the second", () => {
    const texts = axisTicks(T, T + 5000, 1000, 6, 900, "UTC").map((t) => t.text);
    expect(texts).toEqual(["2025-12-03 07:31:34", "07:31:35", "07:31:36", "07:31:37", "07:31:38", "07:31:39"]);
  });
  it("over hours, to the minute; over months, dates alone", () => {
    const h = Date.UTC(2025, 11, 3, 6);
    expect(axisTicks(h, h + 3 * 3_600_000, 60_000, 6, 900, "UTC").map((t) => t.text)).toEqual(["2025-12-03 06:00", "06:30", "07:00", "07:30", "08:00", "08:30", "09:00"]);
    // Across midnight the new date is written where it changes.
    const eve = Date.UTC(2025, 11, 3, 20);
    expect(axisTicks(eve, eve + 8 * 3_600_000, 300_000, 4, 700, "UTC").map((t) => t.text)).toEqual(["2025-12-03 20:00", "22:00", "2025-12-04 00:00", "02:00", "04:00"]);
    const d = Date.UTC(2025, 0, 1);
    const days = axisTicks(d, d + 364 * 86_400_000, 86_400_000, 4, 700, "UTC").map((t) => t.text);
    expect(days).toEqual(["2025-01-01", "2025-04-02", "2025-07-02", "2025-10-01", "2025-12-31"]);
  });
  it("follows the display zone", () => {
    expect(axisTicks(T, T + 1000, 1000, 2, 400, "America/New_York").map((t) => t.text)).toEqual(["2025-12-03 02:31:34.000", "02:31:34.500", "02:31:35.000"]);
  });
  it("drops a label that would repeat the one before (a range shorter than the labels' precision)", () => {
    const texts = axisTicks(T, T + 2, 1000, 6, 900, "UTC").map((t) => t.text);
    expect(texts).toEqual(["2025-12-03 07:31:34.000", "07:31:34.001", "07:31:34.002"]);
    expect(axisTicks(T, T, 1000, 6, 900, "UTC").map((t) => t.text)).toEqual(["2025-12-03 07:31:34.000"]);
    // The autumn DST change in New York: 01:30 EDT and 01:30 EST read alike; the second is left out.
    const edt = Date.UTC(2025, 10, 2, 5, 30); // 01:30 EDT
    const texts2 = axisTicks(edt, edt + 3_600_000, 3_600_000, 1, 400, "America/New_York").map((t) => t.text);
    expect(texts2).toEqual(["2025-11-02 01:30"]);
  });
  it("nothing to draw without width or with a bad range", () => {
    expect(axisTicks(T, T + 1000, 1000, 6, 0, "UTC")).toEqual([]);
    expect(axisTicks(T + 1000, T, 1000, 6, 900, "UTC")).toEqual([]);
  });
  it("precision of the spacing and of a hovered bucket; round steps", () => {
    expect(tickPrecision(166)).toBe("ms");
    expect(tickPrecision(1000)).toBe("second");
    expect(tickPrecision(60_000)).toBe("minute");
    expect(bucketPrecision(1000)).toBe("second");
    expect(bucketPrecision(30_000)).toBe("second");
    expect(bucketPrecision(60_000)).toBe("minute");
    expect(niceCount(1000, 6)).toBe(5);
    expect(niceCount(7000, 6)).toBe(6); // no count from 6 down to 2 gives whole seconds: as asked
    expect(niceCount(200 * 60_000, 6)).toBe(5);
  });
});
