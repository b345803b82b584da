import { describe, expect, it } from "vitest";
import type { Acquisition } from "./bindings";
import type { CaseLogEntry } from "./backend";
import {
  acquisitionContainers,
  acquisitionError,
  acquisitionStatus,
  kindLabel,
  logActionLabel,
  logTime,
  newestFirst,
  sourceNames,
  statusError,
  tookText,
} from "./caseHome";

function acq(over: Partial<Acquisition> = {}): Acquisition {
  return {
    id: 1,
    kind: "import",
    source: "activities-csv,ual-jsonl",
    parameters: "{}",
    operator: "investigator",
    tool_version: "0.1.0",
    started_at: "2025-12-04T09:05:12.310Z",
    finished_at: "2025-12-04T09:05:14.720Z",
    status: "completed",
    records_read: 150,
    events_new: 147,
    duplicates: 3,
    malformed: 0,
    files: [],
    ...over,
  };
}

function entry(id: number, details: unknown, action = "import"): CaseLogEntry {
  return { id, time: "2025-12-04T09:00:00.000Z", operator: "x", action, summary: "s", details, sha256: null, entry_hash: "h" };
}

describe("acquisitions", () => {
  it("status in words, with what it means", () => {
    expect(acquisitionStatus(acq(), null)).toEqual({ label: "Completed", tone: "ok", sentence: "" });
    const stopped = acquisitionStatus(acq({ status: "interrupted" }), null);
    expect(stopped.label).toBe("Interrupted");
    expect(stopped.tone).toBe("warn");
    expect(stopped.sentence).toMatch(/The 150 records read before that are kept/);
    const failed = acquisitionStatus(acq({ status: "failed" }), "The disk is full.");
    expect(failed.tone).toBe("danger");
    expect(failed.sentence).toMatch(/^The disk is full\. The 150 records/);
    expect(acquisitionStatus(acq({ status: "failed" }), null).sentence).toMatch(/^It ended with an error\./);
    expect(acquisitionStatus(acq({ status: "running" }), null, true).label).toBe("Running");
    expect(acquisitionStatus(acq({ status: "running" }), null, false).label).toBe("Did not finish");
  });

  it("the error comes from the log entry that closed the acquisition", () => {
    const log = [entry(1, { acquisition_id: 1, error: null }), entry(2, { acquisition_id: 2, error: "Stopped by the user." }), entry(3, "not json")];
    expect(acquisitionError(acq({ id: 2 }), log)).toBe("Stopped by the user.");
    expect(acquisitionError(acq({ id: 1 }), log)).toBeNull();
    expect(acquisitionError(acq({ id: 9 }), [])).toBeNull();
    expect(statusError(acq({ status: "completed" }), "x")).toBeNull();
    expect(statusError(acq({ status: "interrupted" }), "x")).toBe("x");
  });

  it("source, kind, duration and archives", () => {
    expect(sourceNames(acq())).toEqual(["activities-csv", "ual-jsonl"]);
    const f = { path: "a", size: 1, sha256: "", format: "ual-jsonl", format_name: "Unified Audit Log JSONL", encoding: "utf-8", container: null, records: 1, new_events: 1, duplicates: 0, malformed: 0, malformed_at: [], first_time: null, last_time: null };
    expect(sourceNames(acq({ files: [f, { ...f }] }))).toEqual(["Unified Audit Log JSONL"]);
    expect(kindLabel("collection")).toBe("Collection");
    expect(tookText(acq())).toBe("took 2.4 s");
    expect(tookText(acq({ finished_at: null }))).toBe("");
    const params = JSON.stringify({ containers: [{ path: "/e/x.zip", size: 10, sha256: "ab" }, { nope: 1 }] });
    expect(acquisitionContainers(acq({ parameters: params }))).toEqual([{ path: "/e/x.zip", size: 10, sha256: "ab" }]);
    expect(acquisitionContainers(acq({ parameters: "not json" }))).toEqual([]);
  });
});

describe("case log", () => {
  it("newest first, actions in words, times in UTC", () => {
    expect(newestFirst([entry(1, {}), entry(3, {}), entry(2, {})]).map((e) => e.id)).toEqual([3, 2, 1]);
    expect(logActionLabel("case.created")).toBe("Case created");
    expect(logActionLabel("tag.applied")).toBe("Tag applied");
    expect(logActionLabel("")).toBe("");
    expect(logTime("2025-12-04T09:05:14.720Z")).toBe("2025-12-04 09:05:14 UTC");
    expect(logTime("garbage")).toBe("garbage");
  });
});
