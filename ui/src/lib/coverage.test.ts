import { describe, expect, it } from "vitest";
import type { CollectProgress, Coverage } from "./collectBindings";
import {
  axisTicks,
  positionOf,
  blindSpots,
  cellLabel,
  countsText,
  faultLines,
  hasGap,
  layoutCoverage,
  rowLabel,
  settled,
  runStatusLabel,
  statusOf,
  summarize,
  tallyBySource,
  withProgress,
} from "./coverage";

const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2025, 11, 1);
const iso = (ms: number) => new Date(ms).toISOString();

let nextId = 1;
function win(source: string, scope: string, startMs: number, endMs: number, status: string, extra: Partial<Coverage> = {}): Coverage {
  return {
    window_id: nextId++,
    source,
    scope,
    start: iso(startMs),
    end: iso(endMs),
    status,
    server_count: null,
    records: 0,
    new_events: 0,
    duplicates: 0,
    errors: 0,
    faults: {},
    blind_spots: [],
    ...extra,
  };
}

describe("statuses and words", () => {
  it("knows the ledger's statuses, anything else is not collected", () => {
    expect(statusOf("done")).toBe("done");
    expect(statusOf("skipped")).toBe("skipped");
    expect(statusOf("split")).toBe("planned");
  });
  it("names rows by source and scope", () => {
    expect(rowLabel("management", "Audit.Exchange")).toBe("Management Activity API · Audit.Exchange");
    expect(rowLabel("graph", "")).toBe("Graph audit log query");
    expect(rowLabel("activities", "adele@contoso.com")).toBe("Outlook Activities (legacy) · adele@contoso.com");
    expect(rowLabel("future", "")).toBe("future");
  });
  it("names runs' states", () => {
    expect(runStatusLabel("incomplete")).toBe("Stopped before the end");
    expect(runStatusLabel("odd")).toBe("odd");
  });
});

describe("blind spots", () => {
  it("splits the engine's code off and makes sentences", () => {
    const c = win("management", "Audit.Exchange", T0, T0 + D, "skipped", {
      blind_spots: ["collect.outside_retention: The Management Activity API keeps content for 7 days; this part of the range is older."],
    });
    expect(blindSpots(c)).toEqual([{ text: "The Management Activity API keeps content for 7 days; this part of the range is older.", code: "collect.outside_retention" }]);
    const p = win("graph", "", T0, T0 + D, "planned", { blind_spots: ["not collected yet: resume the run"] });
    expect(blindSpots(p)).toEqual([{ text: "Not collected yet: resume the run.", code: null }]);
  });
  it("adds unreadable records unless the engine said so", () => {
    const c = win("graph", "", T0, T0 + D, "done", { records: 10, errors: 2 });
    expect(blindSpots(c).map((b) => b.text)).toEqual(["2 records could not be read as audit events; their bytes are kept in the case."]);
    expect(hasGap(c)).toBe(true);
  });
  it("a done window with everything received has no gap", () => {
    expect(hasGap(win("graph", "", T0, T0 + D, "done", { records: 5, server_count: 5 }))).toBe(false);
    expect(hasGap(win("graph", "", T0, T0 + D, "done", { records: 4, server_count: 5 }))).toBe(true);
    expect(hasGap(win("graph", "", T0, T0 + D, "failed"))).toBe(false);
  });
  it("lists faults most frequent first, in words", () => {
    expect(faultLines({ faults: { "slow-page": 1, "throttle-429": 3, weird: 2 } })).toEqual([
      "Microsoft asked Tidemark to slow down (HTTP 429); it waited and asked again (3 times)",
      "weird (2 times)",
      "A page took unusually long to arrive",
    ]);
  });
});

describe("labels", () => {
  it("says where, when, what and how many", () => {
    const c = win("graph", "", T0, T0 + D, "done", { records: 1204, server_count: 1204, new_events: 1100, duplicates: 104 });
    expect(countsText(c)).toBe("1,204 records received of 1,204 the server listed · 1,100 new · 104 already in the case");
    expect(cellLabel(c, "UTC")).toBe(
      "Graph audit log query, 2025-12-01 00:00 – 2025-12-02 00:00 UTC: Collected. 1,204 records received of 1,204 the server listed · 1,100 new · 104 already in the case",
    );
    expect(cellLabel(win("graph", "", T0, T0 + D, "skipped"), "America/New_York")).toBe(
      "Graph audit log query, 2025-11-30 19:00 – 2025-12-01 19:00 UTC-05:00: Skipped",
    );
    expect(cellLabel(win("graph", "", T0, T0 + D, "done", { records: 3, server_count: 9 }), "UTC")).toMatch(/Collected, with a gap\. 3 records received of 9/);
  });
});

describe("layout", () => {
  it("one row per source and scope in engine order, columns at every boundary", () => {
    const cov = [
      win("graph", "", T0, T0 + D, "done"),
      win("graph", "", T0 + D, T0 + 2 * D, "failed"),
      win("management", "Audit.Exchange", T0 - 30 * D, T0, "skipped"),
      win("management", "Audit.Exchange", T0, T0 + D, "done"),
      win("management", "Audit.Exchange", T0 + D, T0 + 2 * D + 12 * H, "running"),
      win("management", "Audit.AzureActiveDirectory", T0, T0 + D, "planned"),
    ];
    const l = layoutCoverage(cov);
    expect(l.rows.map((r) => r.label)).toEqual([
      "Management Activity API · Audit.Exchange",
      "Management Activity API · Audit.AzureActiveDirectory",
      "Graph audit log query",
    ]);
    expect(l.columns.map((c) => [c.startMs, c.endMs])).toEqual([
      [T0 - 30 * D, T0],
      [T0, T0 + D],
      [T0 + D, T0 + 2 * D],
      [T0 + 2 * D, T0 + 2 * D + 12 * H],
    ]);
    // The 30-day column is capped at 4× the median (1 day) and marked.
    expect(l.columns[0]).toMatchObject({ compressed: true, weight: 1 });
    expect(l.columns[1]).toMatchObject({ compressed: false, weight: 0.25 });
    expect(l.template).toBe("minmax(3px, 61.538fr) minmax(3px, 15.385fr) minmax(3px, 15.385fr) minmax(3px, 7.692fr)");
    // Three equal days fill the row (flex factors below 1 in total would not).
    const days = layoutCoverage([0, 1, 2].map((i) => win("graph", "", T0 + i * D, T0 + (i + 1) * D, "planned")));
    expect(days.template).toBe("minmax(3px, 33.333fr) minmax(3px, 33.333fr) minmax(3px, 33.333fr)");
    const ex = l.rows[0]!.cells.map((c) => [c.status, c.colStart, c.colEnd]);
    expect(ex).toEqual([
      ["skipped", 1, 2],
      ["done", 2, 3],
      ["running", 3, 5],
    ]);
    expect(l.fromMs).toBe(T0 - 30 * D);
    expect(l.toMs).toBe(T0 + 2 * D + 12 * H);
  });
  it("is empty without windows and ignores broken ones", () => {
    expect(layoutCoverage([]).rows).toEqual([]);
    expect(layoutCoverage([{ ...win("graph", "", T0, T0 + D, "done"), start: "garbage" }]).rows).toEqual([]);
  });
  it("ticks at midnights of the display zone, thinned to fit, labels kept inside the edges", () => {
    const cov = Array.from({ length: 7 }, (_, i) => win("graph", "", T0 + i * D, T0 + (i + 1) * D, "done"));
    const l = layoutCoverage(cov);
    const wide = axisTicks(l, "UTC", 1000);
    expect(wide.map((t) => t.label)).toEqual(["2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04", "2025-12-05", "2025-12-06", "2025-12-07", "2025-12-08"]);
    expect(wide[0]).toMatchObject({ pos: 0, align: "start" });
    expect(wide.at(-1)).toMatchObject({ pos: 1, align: "end" });
    expect(wide[3]).toMatchObject({ align: "center" });
    expect(wide[3]!.pos).toBeCloseTo(3 / 7);
    // Narrow: every other day.
    expect(axisTicks(l, "UTC", 400).map((t) => t.label)).toEqual(["2025-12-01", "2025-12-03", "2025-12-05", "2025-12-07"]);
    // New York: local midnights fall at 05:00 UTC, inside the columns; no label carries a time.
    const ny = axisTicks(l, "America/New_York", 1000);
    expect(ny.map((t) => t.label)).toEqual(["2025-12-01", "2025-12-02", "2025-12-03", "2025-12-04", "2025-12-05", "2025-12-06", "2025-12-07"]);
    expect(ny[0]!.pos).toBeCloseTo(5 / 24 / 7);
  });
  it("ticks at hours for a short range", () => {
    const l = layoutCoverage([win("graph", "", T0 + 20 * H, T0 + 26 * H, "done"), win("graph", "", T0 + 26 * H, T0 + 32 * H, "done")]);
    expect(axisTicks(l, "UTC", 1000).map((t) => t.label)).toEqual([
      "2025-12-01 20:00", "22:00", "23:00", "2025-12-02 00:00", "01:00", "02:00", "03:00", "04:00", "05:00", "06:00", "07:00", "08:00",
    ]);
    expect(axisTicks(l, "UTC", 300).length).toBeLessThan(6);
  });
  it("places moments across compressed columns", () => {
    const l = layoutCoverage([win("graph", "", T0 - 30 * D, T0, "skipped"), win("graph", "", T0, T0 + D, "done")]);
    // Of two columns the 30-day one is the median: nothing is capped, positions follow time.
    expect(positionOf(l, T0)).toBeCloseTo(30 / 31);
    expect(positionOf(l, T0 - 99 * D)).toBe(0);
    expect(positionOf(l, T0 + 9 * D)).toBe(1);
  });
});

describe("progress over the map, tallies, summary", () => {
  const cov = [
    win("graph", "", T0, T0 + D, "done", { records: 10, server_count: 10 }),
    win("graph", "", T0 + D, T0 + 2 * D, "planned"),
    win("management", "Audit.Exchange", T0 - 9 * D, T0, "skipped"),
    win("management", "Audit.Exchange", T0, T0 + D, "failed", { blind_spots: ["collect.throttled: Microsoft kept refusing."] }),
  ];
  it("marks the window being read", () => {
    const p = { window_id: cov[1]!.window_id, window_records: 40, window_server_count: 90 } as CollectProgress;
    const live = withProgress(cov, p);
    expect(live[1]).toMatchObject({ status: "running", records: 40, server_count: 90 });
    expect(live[0]).toBe(cov[0]);
    expect(withProgress(cov, null)).toBe(cov);
  });
  it("tallies per source in engine order", () => {
    expect(tallyBySource(cov)).toEqual([
      { source: "management", label: "Management Activity API", total: 2, finished: 2, done: 0, failed: 1, skipped: 1, records: 0 },
      { source: "graph", label: "Graph audit log query", total: 2, finished: 1, done: 1, failed: 0, skipped: 0, records: 10 },
    ]);
  });
  it("says what the map means, worst first", () => {
    const s = summarize(cov);
    expect(s.tone).toBe("bad");
    expect(s.sentences).toEqual([
      "1 window failed: events in it may be missing from the case. Resume the collection to try again.",
      "1 window was skipped: Microsoft does not offer it from that source (for example older than it keeps). Events there are not in the case from that source.",
      "1 window is not collected yet. Resume the collection to read it.",
    ]);
    const running = summarize([cov[0]!, { ...cov[1]!, status: "running" }, cov[1]!], true);
    expect(running.sentences).toEqual(["2 windows are still to read."]);
    expect(running.tone).toBe("ok");
    const all = summarize([cov[0]!]);
    expect(all).toMatchObject({ tone: "ok", sentences: ["Every window was collected and everything the server listed was received."] });
    expect(summarize([win("graph", "", T0, T0 + D, "done", { records: 1, server_count: 3 })]).sentences[0]).toMatch(/^1 collected window has a gap/);
  });
});

describe("settled", () => {
  const w = (status: string) =>
    ({ window_id: 1, source: "graph", scope: "", start: "2025-03-01T00:00:00.000Z", end: "2025-03-02T00:00:00.000Z", status, server_count: null, records: 5, new_events: 5, duplicates: 0, errors: 0, faults: {}, blind_spots: [] }) as Coverage;
  it("a window cut off while nothing runs waits for Resume like a planned one; while running it stays running", () => {
    expect(settled([w("running"), w("done")], false).map((c) => c.status)).toEqual(["planned", "done"]);
    expect(settled([w("running")], true)[0]?.status).toBe("running");
    expect(settled([w("running")], false)[0]?.records).toBe(5);
  });
});
