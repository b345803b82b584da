import { describe, expect, it } from "vitest";
import { boundText, hasTimeRange, splitTerms, withTimeRange, withoutTimeRange } from "./timeRange";

describe("time range in the query text", () => {
  const s = Date.UTC(2025, 11, 1, 8, 0);
  const e = Date.UTC(2025, 11, 1, 9, 0) - 1;
  it("writes UTC bounds the engine reads", () => {
    expect(boundText(s)).toBe("2025-12-01T08:00");
    expect(boundText(e)).toBe("2025-12-01T08:59:59.999Z");
  });
  it("replaces an existing range and keeps every other term, quotes included", () => {
    const q = 'actor:ap "wire transfer" after:2025-01-01 -ip:10.0.0.1 before:2025-02-01';
    expect(hasTimeRange(q)).toBe(true);
    expect(withoutTimeRange(q)).toBe('actor:ap "wire transfer" -ip:10.0.0.1');
    expect(withTimeRange(q, s, e)).toBe('actor:ap "wire transfer" -ip:10.0.0.1 after:2025-12-01T08:00 before:2025-12-01T08:59:59.999Z');
    expect(withTimeRange("", s, e)).toBe("after:2025-12-01T08:00 before:2025-12-01T08:59:59.999Z");
    expect(splitTerms('subject:"a b" x')).toEqual(['subject:"a b"', "x"]);
    expect(hasTimeRange("afterwards")).toBe(false);
  });
});
