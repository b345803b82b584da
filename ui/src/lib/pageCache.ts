// Keyset-paginated row cache for one query. Pages are fetched strictly in order (the cursor of
// page N is needed to ask for page N+1), appended, and never re-ordered, so the cache is always a
// gap-free prefix of the result list. A new query bumps the generation; responses that belong to an
// older generation are dropped.

import type { EventRow, Page, SortOrder } from "./bindings";

export const PAGE_SIZE = 500;

export interface PageRequest {
  query: string;
  sort: SortOrder;
  after: string | null;
  limit: number;
}

export type PageFetcher = (req: PageRequest) => Promise<Page>;

export class PageCache {
  private rows: EventRow[] = [];
  private ids = new Set<string>();
  private cursor: string | null = null;
  private done = false;
  private running = false;
  private want = -1;
  private gen = 0;
  private _query = "";
  private _sort: SortOrder = "asc";
  private _error: unknown = null;
  private _duplicatesDropped = 0;
  private readonly fetcher: PageFetcher;
  private readonly onChange: () => void;
  readonly pageSize: number;

  constructor(fetcher: PageFetcher, onChange: () => void = () => {}, pageSize = PAGE_SIZE) {
    this.fetcher = fetcher;
    this.onChange = onChange;
    this.pageSize = pageSize;
  }

  get query(): string {
    return this._query;
  }
  get sort(): SortOrder {
    return this._sort;
  }
  get generation(): number {
    return this.gen;
  }
  /** Rows loaded so far (always rows 0..length-1, no gaps). */
  get length(): number {
    return this.rows.length;
  }
  /** True once the backend said there are no more rows. */
  get complete(): boolean {
    return this.done;
  }
  get loading(): boolean {
    return this.running;
  }
  get error(): unknown {
    return this._error;
  }
  /** Rows the backend sent twice (should be 0; they are not shown twice). */
  get duplicatesDropped(): number {
    return this._duplicatesDropped;
  }

  get(index: number): EventRow | undefined {
    return this.rows[index];
  }

  /** Index of a loaded row by event id, or -1. */
  indexOf(id: string): number {
    if (!this.ids.has(id)) return -1;
    return this.rows.findIndex((r) => r.id === id);
  }

  /** Discards everything and starts a new generation for a new query or sort order. */
  reset(query: string, sort: SortOrder): void {
    this.gen++;
    this.rows = [];
    this.ids = new Set();
    this.cursor = null;
    this.done = false;
    this.running = false;
    this.want = -1;
    this._error = null;
    this._duplicatesDropped = 0;
    this._query = query;
    this._sort = sort;
    this.onChange();
  }

  /**
   * Makes sure rows 0..index are (being) loaded. The latest call wins: if the viewport moves back
   * up while pages are still being fetched for a far-down position, fetching stops early.
   * Does nothing after an error until `retry()` is called.
   */
  ensure(index: number): void {
    this.want = index;
    if (this._error !== null || this.running || this.done || this.rows.length > index) return;
    void this.pump();
  }

  /** Clears an error and fetches again up to the last wanted row. */
  retry(): void {
    if (this._error === null) return;
    this._error = null;
    this.onChange();
    this.ensure(this.want);
  }

  /** Resolves when no fetch is running (for tests). */
  async idle(): Promise<void> {
    while (this.running) await new Promise((r) => setTimeout(r, 0));
  }

  private async pump(): Promise<void> {
    const gen = this.gen;
    this.running = true;
    this.onChange();
    try {
      while (gen === this.gen && !this.done && this.rows.length <= this.want) {
        const page = await this.fetcher({
          query: this._query,
          sort: this._sort,
          after: this.cursor,
          limit: this.pageSize,
        });
        if (gen !== this.gen) return;
        let added = 0;
        for (const row of page.rows) {
          if (this.ids.has(row.id)) {
            this._duplicatesDropped++;
            continue;
          }
          this.ids.add(row.id);
          this.rows.push(row);
          added++;
        }
        if (page.next === null) {
          this.done = true;
        } else if (added === 0 || page.next === this.cursor) {
          throw new Error("The backend returned a page without new rows; stopped to avoid a loop.");
        }
        this.cursor = page.next;
        this.onChange();
      }
    } catch (e) {
      if (gen === this.gen) this._error = e;
    } finally {
      if (gen === this.gen) {
        this.running = false;
        this.onChange();
      }
    }
  }
}
