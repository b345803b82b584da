import { describe, expect, it } from "vitest";
import type { AcquiredFile } from "./bindings";
import { baseName, encodingLabel, fileLabel, needsAttention, reportOrder } from "./files";

function file(path: string, over: Partial<AcquiredFile> = {}): AcquiredFile {
  return {
    path,
    size: 10,
    sha256: "00".repeat(32),
    format: "ual-jsonl",
    format_name: "Unified Audit Log JSONL",
    encoding: "utf-8",
    container: null,
    records: 5,
    new_events: 5,
    duplicates: 0,
    malformed: 0,
    malformed_at: [],
    first_time: null,
    last_time: null,
    ...over,
  };
}

describe("file names", () => {
  it("takes the last path component on every platform", () => {
    expect(baseName("/evidence/ual.csv")).toBe("ual.csv");
    expect(baseName("C:\\Cases\\Contoso\\ual.csv")).toBe("ual.csv");
    expect(baseName("/evidence/folder/")).toBe("folder");
    expect(baseName("ual.csv")).toBe("ual.csv");
  });
  it("splits archive members from their archive", () => {
    expect(fileLabel("/e/export.zip › logs/a.json", "/e/export.zip")).toEqual({
      name: "logs/a.json",
      where: "/e/export.zip",
      packed: "zip",
      container: "/e/export.zip",
    });
    // While importing, only the display string is known.
    expect(fileLabel("/e/export.zip › logs/a.json")).toMatchObject({ name: "logs/a.json", where: "/e/export.zip", packed: "zip" });
  });
  it("names gzip files and plain files", () => {
    expect(fileLabel("/e/ual.jsonl.gz (gzip)", "/e/ual.jsonl.gz")).toMatchObject({ name: "ual.jsonl.gz", where: "/e", packed: "gzip" });
    expect(fileLabel("/e/ual.jsonl.gz (gzip)")).toMatchObject({ name: "ual.jsonl.gz", packed: "gzip" });
    expect(fileLabel("/e/sub/ual.jsonl")).toEqual({ name: "ual.jsonl", where: "/e/sub", packed: null, container: null });
  });
  it("keeps attacker-looking names as they are", () => {
    const n = "<img src=x onerror=alert(1)>.csv";
    expect(fileLabel(`/e/${n}`).name).toBe(n);
  });
  it("labels encodings", () => {
    expect(encodingLabel("utf-8")).toBe("UTF-8");
    expect(encodingLabel("utf-8-bom")).toBe("UTF-8 with BOM");
    expect(encodingLabel("utf-16le")).toBe("UTF-16 LE");
    expect(encodingLabel("utf-16be")).toBe("UTF-16 BE");
    expect(encodingLabel("koi8-r")).toBe("koi8-r");
  });
});

describe("report order", () => {
  it("puts files with malformed or no records first, otherwise keeps import order", () => {
    const a = file("/a");
    const b = file("/b", { malformed: 2 });
    const c = file("/c");
    const d = file("/d", { records: 0, new_events: 0 });
    expect(needsAttention(a)).toBe(false);
    expect(needsAttention(b)).toBe(true);
    expect(reportOrder([a, b, c, d]).map((f) => f.path)).toEqual(["/b", "/d", "/a", "/c"]);
    expect(reportOrder([a, c]).map((f) => f.path)).toEqual(["/a", "/c"]);
  });
});
