import { describe, expect, it } from "vitest";
import { activeFilters, addFilter, aroundQuery, fieldTerm, filterState, pivots, removeTerm, tokenize } from "./query";

describe("tokenize", () => {
  it("splits on whitespace and keeps quoted phrases whole", () => {
    expect(tokenize(' invoice  actor:"a b" -op:Send "wire transfer" ')).toEqual(["invoice", 'actor:"a b"', "-op:Send", '"wire transfer"']);
  });
  it("keeps an unclosed quote to the end (the engine reports it)", () => {
    expect(tokenize('x "abc def')).toEqual(["x", '"abc def']);
  });
});

describe("facet filters", () => {
  it("adds a term, and an excluded term with -", () => {
    expect(addFilter("", 'actor:"a@x"', false)).toBe('actor:"a@x"');
    expect(addFilter("invoice", 'actor:"a@x"', false)).toBe('invoice actor:"a@x"');
    expect(addFilter("invoice", 'actor:"a@x"', true)).toBe('invoice -actor:"a@x"');
  });
  it("does not add a term twice, and flips include/exclude instead of contradicting", () => {
    expect(addFilter('actor:"a@x"', 'actor:"a@x"', false)).toBe('actor:"a@x"');
    expect(addFilter('invoice actor:"a@x" ip:"1.2.3.4"', 'actor:"a@x"', true)).toBe('invoice ip:"1.2.3.4" -actor:"a@x"');
    expect(addFilter('-actor:"a@x"', 'actor:"a@x"', false)).toBe('actor:"a@x"');
    expect(addFilter('ACTOR:"a@x"', 'actor:"a@x"', false)).toBe('ACTOR:"a@x"');
  });
  it("removes a term with its OR so the query stays valid", () => {
    expect(removeTerm('actor:"a" OR actor:"b" invoice', 'actor:"a"')).toBe('actor:"b" invoice');
    expect(removeTerm('x actor:"a" OR actor:"b"', 'actor:"b"')).toBe('x actor:"a"');
  });
  it("lists the field filters of a query", () => {
    expect(activeFilters('invoice actor:"a b" -ip:1.2.3.4 OR http://x.example/a after:2025-01-01').map((f) => [f.negated, f.field, f.value])).toEqual([
      [false, "actor", "a b"],
      [true, "ip", "1.2.3.4"],
      [false, "after", "2025-01-01"],
    ]);
  });
  it("tells whether a value is filtered", () => {
    expect(filterState('x -ip:"1.2.3.4"', 'ip:"1.2.3.4"')).toBe("exclude");
    expect(filterState('ip:"1.2.3.4"', 'ip:"1.2.3.4"')).toBe("include");
    expect(filterState('ip:"1.2.3.44"', 'ip:"1.2.3.4"')).toBeNull();
  });
});

describe("pivots", () => {
  it("quotes values and drops double quotes (the language has no escape for them)", () => {
    expect(fieldTerm("actor", 'odd "quoted" name')).toBe('actor:"odd  quoted  name"');
    expect(fieldTerm("ip", "2001:db8::1")).toBe('ip:"2001:db8::1"');
    expect(fieldTerm("session", "  ")).toBeNull();
    expect(fieldTerm("session", null)).toBeNull();
    expect(fieldTerm("session", "--")).toBeNull();
  });
  it("±N minutes is an after:/before: pair in ISO UTC with milliseconds", () => {
    const t = Date.UTC(2025, 11, 3, 7, 31, 34, 123);
    expect(aroundQuery(t, 5)).toBe("after:2025-12-03T07:26:34.123Z before:2025-12-03T07:36:34.123Z");
  });
  it("offers session, IP, message, user and time pivots, leaving out what the event lacks", () => {
    const ev = { time_ms: Date.UTC(2025, 0, 1), actor: "eve@evil.example", client_ip: "203.0.113.50", session_id: null };
    const p = pivots(ev, ["<a@b>", "<c@d>"], 15);
    expect(p.map((x) => x.id)).toEqual(["ip", "msgid", "user", "around"]);
    expect(p.find((x) => x.id === "msgid")?.query).toBe('msgid:"<a@b>" OR msgid:"<c@d>"');
    expect(p.find((x) => x.id === "user")?.query).toBe('actor:"eve@evil.example"');
    expect(p.find((x) => x.id === "around")?.label).toBe("±15 min around it");
  });
});
