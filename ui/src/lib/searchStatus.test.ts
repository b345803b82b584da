import { describe, expect, it } from "vitest";
import type { SearchCount } from "./bindings";
import { countText, knownRows, provisionalRowCount } from "./searchStatus";

const counted = (matching: number, total: number): SearchCount => ({ matching, total, first_time: null, last_time: null });

describe("the current search's figures before and after its count", () => {
  it("the count, when it is there, as before", () => {
    expect(countText(counted(5000, 5000), false, null, "en-US")).toBe("5,000 events");
    expect(countText(counted(4_460_000, 10_000_000), true, null, "en-US")).toBe("4,460,000 of 10,000,000 events");
    expect(countText(counted(0, 5000), true, null, "en-US")).toBe("0 of 5,000 events");
    // The count wins over the rows known before it.
    expect(countText(counted(1234, 5000), true, { rows: 500, more: true }, "en-US")).toBe("1,234 of 5,000 events");
  });

  it("before the count: the rows known so far, with a + while more may follow; nothing known yet says so", () => {
    expect(countText(null, true, { rows: 500, more: true }, "en-US")).toBe("500+ events");
    expect(countText(null, true, { rows: 1500, more: true }, "en-US")).toBe("1,500+ events");
    expect(countText(null, true, { rows: 37, more: false }, "en-US")).toBe("37 events");
    expect(countText(null, false, { rows: 1, more: false }, "en-US")).toBe("1 event");
    expect(countText(null, false, null, "en-US")).toBe("Counting…");
  });

  it("what is known: the first page, the blocks loaded since, the end once seen", () => {
    expect(knownRows({ rows: 500, end: false }, 500, null)).toEqual({ rows: 500, more: true });
    expect(knownRows({ rows: 500, end: false }, 1500, null)).toEqual({ rows: 1500, more: true });
    expect(knownRows({ rows: 500, end: false }, 1234, 1234)).toEqual({ rows: 1234, more: false });
    expect(knownRows({ rows: 37, end: true }, 37, 37)).toEqual({ rows: 37, more: false });
    // The order changed: the cache starts again, the first page still tells how many rows there are.
    expect(knownRows({ rows: 500, end: false }, 0, null)).toEqual({ rows: 500, more: true });
    expect(knownRows({ rows: 37, end: true }, 0, null)).toEqual({ rows: 37, more: false });
  });

  it("the timeline holds the known rows and one row to load more from while the end is not seen", () => {
    expect(provisionalRowCount({ rows: 500, more: true })).toBe(501);
    expect(provisionalRowCount({ rows: 37, more: false })).toBe(37);
  });
});
