import { describe, expect, it } from "vitest";
import { computeWindow, scrollToVirtual, scrollTopToReveal, virtualToScroll, spacerHeightOf, rowsPerPage, virtualTopToReveal, ScrollState, wheelPixels, type Geometry } from "./virtual";

const RH = 26;

describe("window math below the height cap", () => {
  const g: Geometry = { count: 5000, rowHeight: RH, viewportHeight: 520, maxSpacer: 15_000_000 };

  it("uses the real content height for the spacer", () => {
    expect(spacerHeightOf(g)).toBe(5000 * RH);
  });
  it("renders the visible rows plus overscan", () => {
    const w = computeWindow({ ...g, scrollTop: 0, overscan: 5 });
    expect(w.first).toBe(0);
    expect(w.visibleFirst).toBe(0);
    expect(w.visibleLast).toBe(20);
    expect(w.last).toBe(25);
    expect(w.offsetY).toBe(0);
    expect(w.scale).toBe(1);
  });
  it("places rows at their natural offset in the middle", () => {
    const w = computeWindow({ ...g, scrollTop: 1000 * RH + 13, overscan: 5 });
    expect(w.visibleFirst).toBe(1000);
    expect(w.first).toBe(995);
    expect(w.offsetY).toBe(995 * RH);
    expect(w.last).toBe(1021 + 5);
  });
  it("clamps at the end", () => {
    const w = computeWindow({ ...g, scrollTop: 10_000_000, overscan: 5 });
    expect(w.visibleLast).toBe(5000);
    expect(w.last).toBe(5000);
    expect(w.visibleFirst).toBe(5000 - 20);
    // The last row ends exactly at the bottom of the spacer.
    expect(w.offsetY + (w.last - w.first) * RH).toBe(w.spacerHeight);
  });
  it("handles an empty list and tiny lists", () => {
    expect(computeWindow({ ...g, count: 0, scrollTop: 0 })).toMatchObject({ first: 0, last: 0, spacerHeight: 0 });
    const w = computeWindow({ ...g, count: 3, scrollTop: 50 });
    expect([w.first, w.last]).toEqual([0, 3]);
  });
  it("reveals a row with minimal scrolling", () => {
    expect(scrollTopToReveal(5, 0, g)).toBe(0); // already visible
    expect(scrollTopToReveal(20, 0, g)).toBe(21 * RH - 520); // just below: align bottom
    expect(scrollTopToReveal(100, 200 * RH, g)).toBe(100 * RH); // above: align top
    expect(scrollTopToReveal(4999, 0, g)).toBe(5000 * RH - 520);
  });
  it("computes rows per page", () => {
    expect(rowsPerPage(g)).toBe(19);
  });
});

describe("window math above the height cap (scaled scrolling)", () => {
  const count = 10_000_000; // 260 M px of rows
  const vh = 700;
  const g: Geometry = { count, rowHeight: RH, viewportHeight: vh, maxSpacer: 15_000_000 };
  const maxScroll = 15_000_000 - vh;
  const maxVirtual = count * RH - vh;

  it("caps the spacer", () => {
    expect(spacerHeightOf(g)).toBe(15_000_000);
  });
  it("maps both ends exactly", () => {
    expect(scrollToVirtual(0, g)).toBe(0);
    expect(scrollToVirtual(maxScroll, g)).toBe(maxVirtual);
    expect(virtualToScroll(maxVirtual, g)).toBe(maxScroll);
    const top = computeWindow({ ...g, scrollTop: 0 });
    expect(top.visibleFirst).toBe(0);
    const end = computeWindow({ ...g, scrollTop: maxScroll, overscan: 4 });
    expect(end.visibleLast).toBe(count);
    expect(end.last).toBe(count);
    expect(end.offsetY + (end.last - end.first) * RH).toBeCloseTo(end.spacerHeight, 6);
  });
  it("maps the middle of the scrollbar to the middle of the rows", () => {
    const w = computeWindow({ ...g, scrollTop: maxScroll / 2, overscan: 0 });
    const mid = Math.floor(maxVirtual / 2 / RH);
    expect(w.visibleFirst).toBe(mid);
    expect(w.scale).toBeCloseTo(maxVirtual / maxScroll, 9);
    // Row visibleFirst sits at most one row above the top of the viewport.
    const rowTopOnScreen = w.offsetY - maxScroll / 2;
    expect(rowTopOnScreen).toBeLessThanOrEqual(0);
    expect(rowTopOnScreen).toBeGreaterThan(-RH);
  });
  it("is monotonic and round-trips", () => {
    let prev = -1;
    for (let s = 0; s <= maxScroll; s += maxScroll / 97) {
      const v = scrollToVirtual(s, g);
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
      expect(virtualToScroll(v, g)).toBeCloseTo(s, 4);
    }
  });
  it("rows on screen are contiguous and never overlap", () => {
    for (const s of [1, 12345.5, 7_000_000, maxScroll - 1]) {
      const w = computeWindow({ ...g, scrollTop: s, overscan: 3 });
      // Row i is drawn at offsetY + (i - first) * RH in spacer coordinates; it must correspond to
      // real offset i * RH relative to the virtual top.
      for (let i = w.first; i < w.last; i++) {
        const drawn = w.offsetY + (i - w.first) * RH - s;
        expect(drawn).toBeCloseTo(i * RH - w.virtualTop, 3);
      }
    }
  });
  it("reveal leaves the row fully visible after whole-pixel snapping", () => {
    const targets = [0, 1, 123_456, 5_000_000, count - 2, count - 1];
    let scroll = 0;
    for (const idx of targets) {
      scroll = Math.round(scrollTopToReveal(idx, scroll, g));
      const v = scrollToVirtual(scroll, g);
      expect(idx * RH).toBeGreaterThanOrEqual(v - 1e-6);
      expect((idx + 1) * RH).toBeLessThanOrEqual(v + vh + 1e-6);
    }
  });
  it("moving one row down from the bottom edge advances the view", () => {
    const s0 = 5_000_000;
    const w = computeWindow({ ...g, scrollTop: s0, overscan: 0 });
    const below = w.visibleLast; // first row not fully visible (or just below)
    const s1 = scrollTopToReveal(below, s0, g);
    expect(s1).toBeGreaterThanOrEqual(s0);
    const v1 = scrollToVirtual(s1, g);
    expect((below + 1) * RH).toBeLessThanOrEqual(v1 + vh + 1e-6);
  });
});

describe("ScrollState: the virtual top is the truth at 10,000,000 rows", () => {
  const count = 10_000_000;
  const vh = 700;
  const g: Geometry = { count, rowHeight: RH, viewportHeight: vh, maxSpacer: 15_000_000 };
  const maxScroll = 15_000_000 - vh;

  it("the wheel moves pixel by pixel although one scroll pixel is ~17 content pixels", () => {
    const s = new ScrollState();
    const st0 = s.moveTo(5_000_000 * RH, g);
    let st = st0;
    for (let k = 0; k < 10; k++) {
      st = s.moveBy(3, g);
      // The browser reports the scrollTop we set: the virtual top stays ours, not the coarse mapping.
      expect(s.onScroll(st, g)).toBe(5_000_000 * RH + 3 * (k + 1));
    }
    const w = computeWindow({ ...g, scrollTop: st, virtualTop: s.virtualTop, overscan: 0 });
    expect(w.visibleFirst).toBe(5_000_001);
    // The row at the top is drawn exactly `virtualTop` into the content.
    expect(w.offsetY - st).toBeCloseTo(w.first * RH - s.virtualTop, 6);
  });

  it("a scrollbar drag to 73 % maps linearly; the end of the track is the last row", () => {
    const s = new ScrollState();
    s.moveTo(1000, g);
    const v = s.onScroll(Math.round(maxScroll * 0.73), g);
    const w = computeWindow({ ...g, scrollTop: Math.round(maxScroll * 0.73), virtualTop: v, overscan: 0 });
    expect(w.visibleFirst / count).toBeCloseTo(0.73, 4);
    const vEnd = s.onScroll(maxScroll, g);
    const end = computeWindow({ ...g, scrollTop: maxScroll, virtualTop: vEnd, overscan: 0 });
    expect(end.visibleLast).toBe(count);
  });

  it("keyboard reveal: End, Home and single steps keep the selected row fully visible", () => {
    const s = new ScrollState();
    for (const idx of [count - 1, 0, 1, 42, 9_999_000, 9_999_001, 3]) {
      const v = virtualTopToReveal(idx, s.virtualTop, g);
      const st = s.moveTo(v, g);
      s.onScroll(st, g);
      expect(idx * RH).toBeGreaterThanOrEqual(s.virtualTop);
      expect((idx + 1) * RH).toBeLessThanOrEqual(s.virtualTop + vh);
      const w = computeWindow({ ...g, scrollTop: st, virtualTop: s.virtualTop, overscan: 0 });
      expect(idx).toBeGreaterThanOrEqual(w.visibleFirst);
      expect(idx).toBeLessThan(w.visibleLast);
    }
  });

  it("below the cap the virtual top is the scrollTop", () => {
    const small: Geometry = { count: 5000, rowHeight: RH, viewportHeight: 520, maxSpacer: 15_000_000 };
    const s = new ScrollState();
    expect(s.onScroll(1234, small)).toBe(1234);
    expect(s.moveBy(10, small)).toBe(1244);
  });

  it("converts wheel units", () => {
    expect(wheelPixels({ deltaY: 3, deltaMode: 1 }, RH, 700)).toBe(78);
    expect(wheelPixels({ deltaY: 1, deltaMode: 2 }, RH, 700)).toBe(674);
    expect(wheelPixels({ deltaY: 100, deltaMode: 0 }, RH, 700)).toBe(100);
  });
});
