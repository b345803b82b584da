// The figures of the current search while its count is on its way. At millions of events the first
// page of rows comes back in a millisecond and the count can take a second (seconds for some filters),
// so the rows are shown first: the timeline holds the rows known so far and the status bar says the
// search is still being counted, never a total it does not have.

import type { SearchCount } from "./bindings";
import { formatCount, plural } from "./format";

/** Rows of the current search known before its count. */
export interface KnownRows {
  /** Rows known to exist so far. */
  rows: number;
  /** More rows may follow (the end of the list has not been seen yet). */
  more: boolean;
}

/**
 * What is known from the first page (`first`: its rows, and whether it was the whole list) and from
 * the page cache since (`known`: the furthest block loaded; `end`: where the list ends, once seen). A
 * change of order starts the cache again; the first page still says how many rows there are at least.
 */
export function knownRows(first: { rows: number; end: boolean }, cacheKnown: number, cacheEnd: number | null): KnownRows {
  if (cacheEnd !== null) return { rows: cacheEnd, more: false };
  if (first.end) return { rows: first.rows, more: false };
  return { rows: Math.max(first.rows, cacheKnown), more: true };
}

/**
 * Rows the timeline holds before the count: the known ones, plus one "loading…" row when more may
 * follow (scrolling to it loads the next block, and the list grows by it).
 */
export function provisionalRowCount(known: KnownRows): number {
  return known.rows + (known.more ? 1 : 0);
}

/** The status bar's figure: the count, or the rows known so far ("500+ events") while it is counted. */
export function countText(count: SearchCount | null, filtered: boolean, known: KnownRows | null = null, locale?: string): string {
  if (count) {
    if (!filtered && count.matching === count.total) return plural(count.total, "event", "events", locale);
    return `${formatCount(count.matching, locale)} of ${plural(count.total, "event", "events", locale)}`;
  }
  if (known) return known.more ? `${formatCount(known.rows, locale)}+ events` : plural(known.rows, "event", "events", locale);
  return "Counting…";
}
