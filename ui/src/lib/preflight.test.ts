import { describe, expect, it } from "vitest";
import type { Check } from "./collectBindings";
import { checkName, checkState, groupChecks, preflightSummary } from "./preflight";

const ok = (source: string, check: string): Check => ({ source, check, status: "ok", message: "Fine.", fix: "", detail: "" });

describe("preflight words", () => {
  it("names checks and states", () => {
    expect(checkName("auditing")).toBe("Audit logging");
    expect(checkName("other")).toBe("other");
    expect(checkState("warn")).toBe("warn");
    expect(checkState("error")).toBe("fail");
  });
  it("groups by source with the worst state", () => {
    const g = groupChecks([ok("graph", "token"), { ...ok("graph", "permission"), status: "fail" }, ok("management", "token"), { ...ok("management", "subscription"), status: "warn" }]);
    expect(g.map((x) => [x.label, x.state, x.checks.length])).toEqual([
      ["Graph audit log query", "fail", 2],
      ["Management Activity API", "warn", 2],
    ]);
  });
  it("sums up: ready, warnings, or what cannot be collected", () => {
    expect(preflightSummary([ok("graph", "token")])).toMatchObject({ state: "ok", text: "Ready to collect: every check passed." });
    expect(preflightSummary([ok("graph", "token"), { ...ok("management", "subscription"), status: "warn" }]).text).toBe(
      "Ready to collect. 1 warning: Tidemark handles it during the collection.",
    );
    const f = preflightSummary([ok("graph", "token"), { ...ok("management", "permission"), status: "fail" }]);
    expect(f).toMatchObject({ state: "fail", failing: ["management"] });
    expect(f.text).toBe("Management Activity API cannot be collected until its problem is fixed (see “What to do”). 1 other source is ready.");
    expect(preflightSummary([]).state).toBe("warn");
  });
});
