import { describe, expect, it } from "vitest";
import type { CollectProgress, RunReport } from "./collectBindings";
import { currentWindowText, etaText, overallPercent, progressFacts, reportSentence, throttle, windowCountText, windowPercent } from "./collectProgress";

const P: CollectProgress = {
  source: "management",
  scope: "Audit.Exchange",
  windows_done: 3,
  windows_total: 12,
  pages: 9,
  records: 41_250,
  new_events: 40_000,
  records_per_s: 1234.5,
  window_id: 7,
  window_start: "2025-12-01T00:00:00.000Z",
  window_end: "2025-12-02T00:00:00.000Z",
  window_records: 312,
  window_server_count: 1204,
  eta_s: 150,
};

describe("progress words", () => {
  it("bars", () => {
    expect(overallPercent(P)).toBe(25);
    expect(windowPercent(P)).toBe(25);
    expect(windowPercent({ ...P, window_server_count: null })).toBeNull();
    expect(windowPercent({ ...P, window_server_count: 0 })).toBeNull();
  });
  it("facts, rate and time left", () => {
    expect(progressFacts(P)).toEqual(["3 of 12 windows done", "41,250 records received", "40,000 new events", "1,230 records/s"]);
    expect(progressFacts({ ...P, records_per_s: 0 })).toHaveLength(3);
    expect(etaText(150)).toBe("about 3 min left");
    expect(etaText(5)).toBe("a few seconds left");
    expect(etaText(null)).toBe("");
  });
  it("the current window", () => {
    expect(currentWindowText(P, "UTC")).toBe("Management Activity API · Audit.Exchange, 2025-12-01 00:00 – 2025-12-02 00:00 UTC");
    expect(windowCountText(P)).toBe("312 of 1,204 records");
    expect(windowCountText({ ...P, window_server_count: null, window_records: 1 })).toBe("1 record so far");
  });
  it("a finished or stopped run in one sentence", () => {
    const r: RunReport = { run_id: 1, acquisition_id: 3, records: 1205, new_events: 1200, duplicates: 3, errors: 2, pages: 4, elapsed_ms: 192_000, server_ms: 100_000, stopped_early: false, coverage: [] };
    expect(reportSentence(r)).toBe(
      "The collection finished after 3 min 12 s: 1,205 records received, 1,200 new events added to the case, 3 already in it, 2 unreadable (kept as raw bytes).",
    );
    expect(reportSentence({ ...r, stopped_early: true, duplicates: 0, errors: 0 })).toMatch(/^The collection was stopped after .*\. Resume continues where it stopped; nothing is read twice\.$/);
  });
});

describe("throttle", () => {
  function fakeClock() {
    let now = 0;
    const timers: { at: number; f: () => void; id: number }[] = [];
    let id = 0;
    return {
      clock: {
        now: () => now,
        setTimeout: (f: () => void, ms: number) => {
          timers.push({ at: now + ms, f, id: ++id });
          return id;
        },
        clearTimeout: (h: unknown) => {
          const i = timers.findIndex((t) => t.id === h);
          if (i >= 0) timers.splice(i, 1);
        },
      },
      advance(ms: number) {
        now += ms;
        for (const t of [...timers].sort((a, b) => a.at - b.at)) {
          if (t.at <= now) {
            timers.splice(timers.indexOf(t), 1);
            t.f();
          }
        }
      },
    };
  }
  it("runs at once, then at most once per interval, never losing the last call", () => {
    const c = fakeClock();
    let runs = 0;
    const t = throttle(() => runs++, 2000, c.clock);
    t.call();
    expect(runs).toBe(1);
    t.call();
    t.call();
    c.advance(1000);
    expect(runs).toBe(1);
    c.advance(1000);
    expect(runs).toBe(2);
    c.advance(5000);
    expect(runs).toBe(2);
    t.call();
    expect(runs).toBe(3);
  });
  it("flush runs a waiting call now, or always when asked", () => {
    const c = fakeClock();
    let runs = 0;
    const t = throttle(() => runs++, 2000, c.clock);
    t.call();
    t.call();
    t.flush();
    expect(runs).toBe(2);
    c.advance(5000);
    expect(runs).toBe(2);
    t.flush();
    expect(runs).toBe(2);
    t.flush(true);
    expect(runs).toBe(3);
    t.call();
    t.cancel();
    c.advance(5000);
    expect(runs).toBe(3);
  });
});
