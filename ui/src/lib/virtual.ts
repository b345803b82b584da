// Window math for the fixed-row-height virtual list.
//
// Browsers cap element heights near 16.7 M px, so the scroll spacer is capped at MAX_SPACER_PX.
// Above the cap, the scroll position maps linearly onto the real ("virtual") content offset:
// scrollTop 0 is the first row, the maximum scrollTop is the last row. Rows are then placed in
// spacer coordinates relative to the current scrollTop, so what is on screen is always exact.

export const ROW_HEIGHT = 26;
export const HEADER_HEIGHT = 28;
export const MAX_SPACER_PX = 15_000_000;
export const OVERSCAN = 8;

export interface Geometry {
  /** Number of rows in the list. */
  count: number;
  rowHeight: number;
  /** Height available for rows (viewport minus sticky header). */
  viewportHeight: number;
  maxSpacer?: number;
}

export interface WindowInput extends Geometry {
  scrollTop: number;
  /**
   * The real content offset at the top of the viewport when the caller tracks it itself (scaled
   * lists: the wheel moves it pixel by pixel, which the coarse scrollTop cannot express). Defaults to
   * the offset the scrollTop maps to.
   */
  virtualTop?: number;
  overscan?: number;
}

export interface ListWindow {
  /** Height of the scroll spacer element (capped). */
  spacerHeight: number;
  /** Real height of all rows. */
  contentHeight: number;
  /** Real content offset at the top of the viewport. */
  virtualTop: number;
  /** First row index to render (inclusive, includes overscan). */
  first: number;
  /** Row index after the last one to render (exclusive, includes overscan). */
  last: number;
  /** First and last fully-or-partly visible rows, without overscan (last exclusive). */
  visibleFirst: number;
  visibleLast: number;
  /** Top of row `first` in spacer coordinates. */
  offsetY: number;
  /** Real px per scroll px (1 when below the cap). */
  scale: number;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export function contentHeightOf(g: Geometry): number {
  return Math.max(0, g.count) * g.rowHeight;
}

export function spacerHeightOf(g: Geometry): number {
  return Math.min(contentHeightOf(g), g.maxSpacer ?? MAX_SPACER_PX);
}

function ranges(g: Geometry): { maxScroll: number; maxVirtual: number } {
  const vh = Math.max(0, g.viewportHeight);
  return {
    maxScroll: Math.max(0, spacerHeightOf(g) - vh),
    maxVirtual: Math.max(0, contentHeightOf(g) - vh),
  };
}

/** Real content offset shown at the top of the viewport for a scrollTop. */
export function scrollToVirtual(scrollTop: number, g: Geometry): number {
  const { maxScroll, maxVirtual } = ranges(g);
  const s = clamp(scrollTop, 0, maxScroll);
  if (maxScroll === maxVirtual || maxScroll === 0) return clamp(s, 0, maxVirtual);
  return (s * maxVirtual) / maxScroll;
}

/** The scrollTop that shows a real content offset at the top of the viewport (exact, may be fractional). */
export function virtualToScroll(virtualTop: number, g: Geometry): number {
  const { maxScroll, maxVirtual } = ranges(g);
  const v = clamp(virtualTop, 0, maxVirtual);
  if (maxScroll === maxVirtual || maxVirtual === 0) return clamp(v, 0, maxScroll);
  return (v * maxScroll) / maxVirtual;
}

export function computeWindow(input: WindowInput): ListWindow {
  const count = Math.max(0, input.count);
  const rh = input.rowHeight;
  const vh = Math.max(0, input.viewportHeight);
  const overscan = input.overscan ?? OVERSCAN;
  const spacerHeight = spacerHeightOf(input);
  const contentHeight = contentHeightOf(input);
  const { maxScroll, maxVirtual } = ranges(input);
  const scrollTop = clamp(input.scrollTop, 0, maxScroll);
  const virtualTop = input.virtualTop === undefined ? scrollToVirtual(scrollTop, input) : clamp(input.virtualTop, 0, maxVirtual);
  const scale = maxScroll > 0 && maxVirtual !== maxScroll ? maxVirtual / maxScroll : 1;
  if (count === 0 || rh <= 0) {
    return { spacerHeight, contentHeight, virtualTop: 0, first: 0, last: 0, visibleFirst: 0, visibleLast: 0, offsetY: 0, scale };
  }
  const visibleFirst = clamp(Math.floor(virtualTop / rh), 0, count - 1);
  const visibleLast = clamp(Math.ceil((virtualTop + vh) / rh), visibleFirst + 1, count);
  const first = Math.max(0, visibleFirst - overscan);
  const last = Math.min(count, visibleLast + overscan);
  const offsetY = scrollTop + first * rh - virtualTop;
  return { spacerHeight, contentHeight, virtualTop, first, last, visibleFirst, visibleLast, offsetY, scale };
}

/**
 * The scrollTop that makes row `index` fully visible, moving as little as possible.
 * Returns `scrollTop` unchanged when the row is already fully visible. Rounds so that, after the
 * browser snaps scrollTop to whole pixels, the row is still inside the viewport.
 */
export function scrollTopToReveal(index: number, scrollTop: number, g: Geometry): number {
  const count = Math.max(0, g.count);
  if (count === 0) return 0;
  const i = clamp(index, 0, count - 1);
  const rh = g.rowHeight;
  const vh = Math.max(0, g.viewportHeight);
  const virtualTop = scrollToVirtual(scrollTop, g);
  const rowTop = i * rh;
  const rowBottom = rowTop + rh;
  const { maxScroll } = ranges(g);
  if (rowTop < virtualTop) {
    return clamp(Math.floor(virtualToScroll(rowTop, g)), 0, maxScroll);
  }
  if (rowBottom > virtualTop + vh) {
    return clamp(Math.ceil(virtualToScroll(rowBottom - vh, g)), 0, maxScroll);
  }
  return scrollTop;
}

/** Rows per viewport page, for PageUp/PageDown. */
export function rowsPerPage(g: Geometry): number {
  return Math.max(1, Math.floor(Math.max(0, g.viewportHeight) / g.rowHeight) - 1);
}

/** The virtual top that shows row `index` completely, moving as little as possible from `virtualTop`. */
export function virtualTopToReveal(index: number, virtualTop: number, g: Geometry): number {
  const count = Math.max(0, g.count);
  if (count === 0) return 0;
  const i = clamp(index, 0, count - 1);
  const vh = Math.max(0, g.viewportHeight);
  const { maxVirtual } = ranges(g);
  const v = clamp(virtualTop, 0, maxVirtual);
  const rowTop = i * g.rowHeight;
  if (rowTop < v) return rowTop;
  if (rowTop + g.rowHeight > v + vh) return clamp(rowTop + g.rowHeight - vh, 0, maxVirtual);
  return v;
}

/**
 * The scroll position of a (possibly scaled) list as the timeline keeps it: the real offset at the top
 * of the viewport (`virtualTop`) is the truth; the element's scrollTop follows it. Below the height cap
 * the two are equal. Above it, one scroll pixel is many content pixels, so the wheel and the keyboard
 * move `virtualTop` and set the nearest scrollTop; a scroll event whose scrollTop is not the one we set
 * came from the scrollbar (a drag, a click in the track) and maps linearly back to a virtual top.
 */
export class ScrollState {
  virtualTop = 0;
  private expected = Number.NaN;

  /** A scroll event reported `scrollTop`; returns the virtual top to show. */
  onScroll(scrollTop: number, g: Geometry): number {
    const { maxScroll, maxVirtual } = ranges(g);
    if (maxScroll === maxVirtual) {
      this.virtualTop = clamp(scrollTop, 0, maxVirtual);
    } else if (!(Math.abs(scrollTop - this.expected) <= 1)) {
      this.virtualTop = scrollToVirtual(scrollTop, g);
    }
    this.expected = Number.NaN;
    return this.virtualTop;
  }

  /** Moves to a virtual top; returns the scrollTop to give the element (whole pixels). */
  moveTo(virtualTop: number, g: Geometry): number {
    const { maxScroll, maxVirtual } = ranges(g);
    this.virtualTop = clamp(virtualTop, 0, maxVirtual);
    const s = clamp(Math.round(virtualToScroll(this.virtualTop, g)), 0, maxScroll);
    this.expected = s;
    return s;
  }

  /** Moves by `delta` content pixels (the wheel). */
  moveBy(delta: number, g: Geometry): number {
    return this.moveTo(this.virtualTop + delta, g);
  }

  /** The list changed size: keep the virtual top inside it. */
  clampTo(g: Geometry): void {
    this.virtualTop = clamp(this.virtualTop, 0, ranges(g).maxVirtual);
  }

  reset(): void {
    this.virtualTop = 0;
    this.expected = Number.NaN;
  }
}

/** Wheel delta in pixels, whatever unit the browser reports it in. */
export function wheelPixels(e: { deltaY: number; deltaMode: number }, rowHeight: number, viewportHeight: number): number {
  if (e.deltaMode === 1) return e.deltaY * rowHeight;
  if (e.deltaMode === 2) return e.deltaY * Math.max(rowHeight, viewportHeight - rowHeight);
  return e.deltaY;
}
