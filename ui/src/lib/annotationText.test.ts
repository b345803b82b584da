import { describe, expect, it } from "vitest";
import { eventIdMs, isoUtcText, rangeQuery, utcText } from "./annotationText";
import { nextColor, tagQuery, textOn, TAG_PALETTE } from "./tags";

describe("annotation text", () => {
  it("reads the time from an event id (a time key)", () => {
    const ms = Date.UTC(2025, 11, 3, 7, 31, 34, 123);
    const id = (((BigInt(ms) - 946_684_800_000n) << 20n) | 5n).toString();
    expect(eventIdMs(id)).toBe(ms);
    expect(eventIdMs("not an id")).toBeNull();
  });
  it("writes UTC times and range queries", () => {
    expect(utcText(Date.UTC(2025, 11, 3, 7, 30, 5), "minute")).toBe("2025-12-03 07:30");
    expect(isoUtcText("2025-12-04T10:00:00.000Z")).toBe("2025-12-04 10:00 UTC");
    expect(isoUtcText("garbage")).toBe("garbage");
    expect(utcText(NaN)).toBe("");
    expect(rangeQuery(0, 1000)).toBe("after:1970-01-01T00:00:00.000Z before:1970-01-01T00:00:01.000Z");
  });
  it("tag colours: contrast, next free colour, tag: query", () => {
    expect(textOn("#ffffff")).toBe("#000000");
    expect(textOn("#1971c2")).toBe("#ffffff");
    expect(nextColor([])).toBe(TAG_PALETTE[0]?.color);
    expect(nextColor([TAG_PALETTE[0]!.color.toUpperCase()])).toBe(TAG_PALETTE[1]?.color);
    expect(tagQuery("attacker ip")).toBe('tag:"attacker ip"');
  });
});
