// What the Chromium tests read off the timeline in the page: whether real rows cover the viewport, the
// rows in the DOM, and whether they are the right ones. Shared by ui, timeline and counting tests.
import assert from "node:assert/strict";

/**
 * Waits until the timeline shows real rows covering the top and bottom of the viewport and no
 * placeholders (so a scroll has been processed and its pages have arrived). The first rows can come
 * before the count ("500+ events · counting…"); unless `counted` is false, settled means counted too.
 */
export async function settled(page, { counted = true } = {}) {
  await page.waitForFunction((counted) => {
    const vp = document.querySelector('[data-testid="timeline"]');
    if (!vp || document.querySelector('[data-testid="timeline-placeholder"]')) return false;
    if (counted && /counting…$/.test(document.querySelector('[data-testid="status-count"]')?.textContent ?? "")) return false;
    const rows = [...vp.querySelectorAll('[data-testid="timeline-row"]')];
    if (rows.length < 1) return false;
    const view = vp.getBoundingClientRect();
    const top = vp.querySelector('[role="row"]').getBoundingClientRect().bottom + 1;
    const bottom = Math.min(view.bottom - 20, rows.at(-1).getBoundingClientRect().bottom) - 1;
    const covers = (y) => rows.some((r) => {
      const b = r.getBoundingClientRect();
      return b.top <= y && b.bottom > y;
    });
    return covers(top) && covers(bottom);
  }, counted);
}

/** The timeline rows in the DOM, by position: `{ index, id }`. */
export async function domRows(page) {
  return page.$$eval('[data-testid="timeline-row"]', (els) =>
    els.map((e) => ({ index: Number(e.getAttribute("data-index")), id: e.getAttribute("data-event-id") })).sort((a, b) => a.index - b.index),
  );
}

/** Rows in the DOM are contiguous and distinct, and each is the event `expectedAt(index)` names. */
export function assertRows(rows, expectedAt) {
  assert.ok(rows.length > 0, "rows are rendered");
  for (let k = 1; k < rows.length; k++) assert.equal(rows[k].index, rows[k - 1].index + 1, `contiguous at ${rows[k].index}`);
  assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, "no duplicate rows");
  for (const r of rows) assert.equal(r.id, expectedAt(r.index), `row ${r.index} is the right event`);
}
