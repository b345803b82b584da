import { describe, expect, it } from "vitest";
import {
  buildExportRequest,
  buildScope,
  defaultDestination,
  folderOf,
  formProblem,
  ianaZones,
  joinPath,
  needsHtmlWarning,
  presetColumns,
  scopeRows,
  suggestedName,
  swapExtension,
  zoneValue,
} from "./exportForm";

const inputs = { query: 'actor:"eve"', selection: ["123", "456"] };

describe("export scope", () => {
  it("builds every scope the engine knows", () => {
    expect(buildScope({ kind: "query" }, inputs)).toEqual({ kind: "query", query: 'actor:"eve"' });
    expect(buildScope({ kind: "selection" }, inputs)).toEqual({ kind: "selection", ids: ["123", "456"] });
    expect(buildScope({ kind: "bookmarked" }, inputs)).toEqual({ kind: "bookmarked" });
    expect(buildScope({ kind: "tagged", tag: "attacker" }, inputs)).toEqual({ kind: "tagged", tag: "attacker" });
  });
  it("counts the rows of each scope", () => {
    const counts = { matching: 1204, selection: 2, bookmarks: 7, tags: new Map([["attacker", 31]]) };
    expect(scopeRows({ kind: "query" }, counts)).toBe(1204);
    expect(scopeRows({ kind: "selection" }, counts)).toBe(2);
    expect(scopeRows({ kind: "bookmarked" }, counts)).toBe(7);
    expect(scopeRows({ kind: "tagged", tag: "attacker" }, counts)).toBe(31);
    expect(scopeRows({ kind: "tagged", tag: "gone" }, counts)).toBeNull();
  });
  it("builds the whole request", () => {
    expect(
      buildExportRequest({ scope: { kind: "query" }, format: "xlsx", columns: { kind: "custom", columns: ["time", "actor"] }, zone: { kind: "iana", name: " Europe/Berlin " }, path: "/x/e.xlsx" }, inputs),
    ).toEqual({ scope: { kind: "query", query: 'actor:"eve"' }, format: "xlsx", columns: { kind: "custom", columns: ["time", "actor"] }, time_zone: "Europe/Berlin", path: "/x/e.xlsx" });
    expect(buildExportRequest({ scope: { kind: "bookmarked" }, format: "csv", columns: { kind: "preset", name: "full" }, zone: { kind: "local" }, path: "/e.csv" }, inputs).time_zone).toBe("local");
  });
});

describe("export checks", () => {
  const zones = new Set(["Europe/Berlin"]);
  it("says what is missing", () => {
    const base = { scope: { kind: "query" } as const, format: "csv" as const, columns: null, zone: { kind: "utc" } as const };
    expect(formProblem(base, inputs, zones)).toBeNull();
    expect(formProblem({ ...base, scope: { kind: "selection" } }, { query: "", selection: [] }, zones)).toMatch(/No events are selected/);
    expect(formProblem({ ...base, scope: { kind: "tagged", tag: "" } }, inputs, zones)).toMatch(/Choose the tag/);
    expect(formProblem({ ...base, columns: { kind: "custom", columns: [] } }, inputs, zones)).toMatch(/at least one column/);
    expect(formProblem({ ...base, zone: { kind: "iana", name: "Mars/Olympus" } }, inputs, zones)).toMatch(/not a time zone/);
    expect(formProblem({ ...base, zone: { kind: "iana", name: "Europe/Berlin" } }, inputs, zones)).toBeNull();
  });
  it("warns before an HTML report above 50,000 rows only", () => {
    expect(needsHtmlWarning("html", 50_001)).toBe(true);
    expect(needsHtmlWarning("html", 50_000)).toBe(false);
    expect(needsHtmlWarning("xlsx", 5_000_000)).toBe(false);
    expect(needsHtmlWarning("html", null)).toBe(false);
  });
  it("full is every column", () => {
    expect(presetColumns({ name: "full", description: "", columns: [] }, ["a", "b"])).toEqual(["a", "b"]);
    expect(presetColumns({ name: "t", description: "", columns: ["b"] }, ["a", "b"])).toEqual(["b"]);
  });
});

describe("time zones", () => {
  it("lists IANA zones sorted without UTC, with a fallback", () => {
    expect(ianaZones(() => ["Europe/Paris", "UTC", "America/New_York", "Europe/Paris"])).toEqual(["America/New_York", "Europe/Paris"]);
    expect(ianaZones(() => [])).toContain("Europe/Berlin");
    expect(
      ianaZones(() => {
        throw new Error("no Intl");
      }),
    ).toContain("America/New_York");
    expect(ianaZones().length).toBeGreaterThan(50);
  });
  it("sends UTC, local or the name", () => {
    expect(zoneValue({ kind: "utc" })).toBe("UTC");
    expect(zoneValue({ kind: "local" })).toBe("local");
  });
  it("suggests a file name without characters a file system refuses", () => {
    expect(suggestedName('Contoso: "BEC"', { kind: "tagged", tag: "a/b" }, Date.UTC(2025, 11, 4))).toBe("Contoso BEC – tag a b – 2025-12-04");
  });
});

describe("export destination typed by hand", () => {
  it("defaults to the case's folder, named after the case, scope and day", () => {
    const now = Date.UTC(2025, 11, 4, 9);
    expect(defaultDestination("/home/ir/cases/bec.tidemark", "Contoso BEC", { kind: "query" }, "csv", now)).toBe("/home/ir/cases/Contoso BEC – events – 2025-12-04.csv");
    expect(defaultDestination("C:\\Cases\\bec.tidemark", "Contoso: BEC", { kind: "tagged", tag: "a/b" }, "xlsx", now)).toBe("C:\\Cases\\Contoso BEC – tag a b – 2025-12-04.xlsx");
    expect(defaultDestination("bec.tidemark", "x", { kind: "query" }, "csv", now)).toBe("");
  });
  it("splits and joins paths with their own separators", () => {
    expect(folderOf("/x.tidemark")).toBe("/");
    expect(folderOf("C:\\x.tidemark")).toBe("C:\\");
    expect(folderOf("/a/b/c.csv")).toBe("/a/b");
    expect(joinPath("/", "e.csv")).toBe("/e.csv");
    expect(joinPath("C:\\", "e.csv")).toBe("C:\\e.csv");
    expect(joinPath("D:\\Exports", "e.csv")).toBe("D:\\Exports\\e.csv");
  });
  it("follows a format change only when the typed name has the old format's extension", () => {
    expect(swapExtension("/x/alice.csv", "csv", "xlsx")).toBe("/x/alice.xlsx");
    expect(swapExtension("/x/alice.CSV", "csv", "jsonl")).toBe("/x/alice.jsonl");
    expect(swapExtension("/x/alice", "csv", "xlsx")).toBe("/x/alice");
    expect(swapExtension("/x/alice.txt", "csv", "html")).toBe("/x/alice.txt");
  });
});
