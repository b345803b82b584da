// Random-access row cache for one query, in blocks of `pageSize` rows at fixed positions.
//
// Block b holds rows b·P … b·P+P−1 of the result list. It is fetched by keyset cursor when block b−1 is
// loaded (its last id is the cursor: the common case while scrolling), and otherwise by position
// (`search_page_at`: the engine seeks through its sparse anchors), so a jump to 73 % or to the end
// costs one request, not every page before it. Rows are only ever placed at the position the backend
// says they have, so there are no gaps and no duplicates; the checks below count any disagreement
// between neighbouring blocks (tests assert zero). A new query or sort order bumps the generation;
// responses for an older generation are dropped. At most `maxInFlight` requests run; when the viewport
// moves on, blocks nobody wants any more are not fetched. Far-away blocks are evicted past `maxBlocks`.

import type { EventRow, Page, SortOrder } from "./bindings";

export const PAGE_SIZE = 500;

export interface PageRequest {
  query: string;
  sort: SortOrder;
  after: string | null;
  limit: number;
}

export interface PositionRequest {
  query: string;
  sort: SortOrder;
  position: number;
  limit: number;
}

export interface PageSource {
  /** Keyset page: rows after the cursor. */
  page(req: PageRequest): Promise<Page>;
  /** The page that starts at a position of the result list. */
  pageAt(req: PositionRequest): Promise<Page>;
}

export interface CacheOptions {
  pageSize?: number;
  maxBlocks?: number;
  maxInFlight?: number;
}

interface Block {
  rows: EventRow[];
  /** Cursor after the block's last row; null when the backend said the list ends here. */
  next: string | null;
}

export class PageCache {
  private blocks = new Map<number, Block>();
  private inFlight = new Set<number>();
  private wantFirst = 0;
  private wantLast = -1;
  private gen = 0;
  private _query = "";
  private _sort: SortOrder = "asc";
  private _error: unknown = null;
  private _end: number | null = null;
  private _known = 0;
  private _inconsistent = 0;
  private _requests = { keyset: 0, seek: 0 };
  private readonly source: PageSource;
  private readonly onChange: () => void;
  readonly pageSize: number;
  readonly maxBlocks: number;
  readonly maxInFlight: number;

  constructor(source: PageSource, onChange: () => void = () => {}, opts: CacheOptions = {}) {
    this.source = source;
    this.onChange = onChange;
    this.pageSize = opts.pageSize ?? PAGE_SIZE;
    this.maxBlocks = Math.max(4, opts.maxBlocks ?? 400);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 2);
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
  /** Where the list ends, once a short or final page has shown it; null while unknown. */
  get end(): number | null {
    return this._end;
  }
  /**
   * Rows known to exist so far: the end of the furthest block loaded in this generation (evictions do
   * not lower it). Before the count comes, the list has at least this many rows (exactly this many once
   * `end` is known).
   */
  get known(): number {
    return this._known;
  }
  get loading(): boolean {
    return this.inFlight.size > 0;
  }
  get error(): unknown {
    return this._error;
  }
  /** Neighbouring blocks that disagreed (a row twice, or out of order). Should stay 0. */
  get inconsistencies(): number {
    return this._inconsistent;
  }
  /** Requests made in this generation, by kind. */
  get requests(): { keyset: number; seek: number } {
    return { ...this._requests };
  }
  /** Loaded blocks (for tests). */
  get blockCount(): number {
    return this.blocks.size;
  }

  get(index: number): EventRow | undefined {
    if (index < 0) return undefined;
    const b = this.blocks.get(Math.floor(index / this.pageSize));
    return b?.rows[index % this.pageSize];
  }

  /** Position of a loaded row by event id, or -1. */
  indexOf(id: string): number {
    for (const [b, block] of this.blocks) {
      const k = block.rows.findIndex((r) => r.id === id);
      if (k >= 0) return b * this.pageSize + k;
    }
    return -1;
  }

  /**
   * Discards everything and starts a new generation for a new query or sort order. `first` is the list's
   * first block when the caller already has it (asked for alongside the count): the rows then come with
   * the reset, in one render, without a round of "loading…" rows in between.
   */
  reset(query: string, sort: SortOrder, first?: Page): void {
    this.gen++;
    this.blocks = new Map();
    this.inFlight = new Set();
    this.wantFirst = 0;
    this.wantLast = -1;
    this._error = null;
    this._end = null;
    this._known = 0;
    this._inconsistent = 0;
    this._requests = { keyset: 0, seek: 0 };
    this._query = query;
    this._sort = sort;
    if (first) {
      this._requests.keyset++;
      this.store(0, first);
    }
    this.onChange();
  }

  /** Makes sure rows first..last (inclusive) are (being) loaded. The latest call wins. */
  ensureRange(first: number, last: number): void {
    this.wantFirst = Math.max(0, Math.floor(first));
    this.wantLast = Math.max(this.wantFirst, Math.floor(last));
    this.pump();
  }

  /** Makes sure row `index` is (being) loaded. */
  ensure(index: number): void {
    this.ensureRange(index, index);
  }

  /** Clears an error and fetches what is wanted again. */
  retry(): void {
    if (this._error === null) return;
    this._error = null;
    this.onChange();
    this.pump();
  }

  /** Resolves when no fetch is running (for tests). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 0));
  }

  /** Blocks still wanted and missing, nearest to the middle of the wanted range first. */
  private missing(): number[] {
    if (this.wantLast < this.wantFirst) return [];
    let lastBlock = Math.floor(this.wantLast / this.pageSize);
    if (this._end !== null) lastBlock = Math.min(lastBlock, Math.ceil(this._end / this.pageSize) - 1);
    const firstBlock = Math.floor(this.wantFirst / this.pageSize);
    const out: number[] = [];
    for (let b = firstBlock; b <= lastBlock; b++) if (!this.blocks.has(b) && !this.inFlight.has(b)) out.push(b);
    return out;
  }

  private pump(): void {
    if (this._error !== null) return;
    // Blocks are independent (a block without its loaded predecessor is a seek), so the blocks of a
    // jump are fetched side by side: one round trip, not one per block.
    for (const b of this.missing()) {
      if (this.inFlight.size >= this.maxInFlight) break;
      void this.fetch(b);
    }
  }

  private async fetch(b: number): Promise<void> {
    const gen = this.gen;
    this.inFlight.add(b);
    this.onChange();
    const prev = this.blocks.get(b - 1);
    try {
      let page: Page;
      if (b === 0) {
        this._requests.keyset++;
        page = await this.source.page({ query: this._query, sort: this._sort, after: null, limit: this.pageSize });
      } else if (prev && prev.rows.length === this.pageSize && prev.next !== null) {
        this._requests.keyset++;
        page = await this.source.page({ query: this._query, sort: this._sort, after: prev.next, limit: this.pageSize });
      } else {
        this._requests.seek++;
        page = await this.source.pageAt({ query: this._query, sort: this._sort, position: b * this.pageSize, limit: this.pageSize });
      }
      if (gen !== this.gen) return;
      this.inFlight.delete(b);
      this.store(b, page);
    } catch (e) {
      if (gen !== this.gen) return;
      this.inFlight.delete(b);
      this._error = e;
    }
    this.onChange();
    this.pump();
  }

  private store(b: number, page: Page): void {
    const rows = page.rows.slice(0, this.pageSize);
    const before = this.blocks.get(b - 1);
    const after = this.blocks.get(b + 1);
    if (!this.ordered(rows) || (before && !this.joins(before.rows, rows)) || (after && !this.joins(rows, after.rows))) {
      this._inconsistent++;
    }
    this.blocks.set(b, { rows, next: rows.length === this.pageSize ? page.next : null });
    if (rows.length > 0) this._known = Math.max(this._known, b * this.pageSize + rows.length);
    if (rows.length < this.pageSize || page.next === null) {
      const end = b * this.pageSize + rows.length;
      this._end = this._end === null ? end : Math.min(this._end, end);
    }
    this.evict(b);
  }

  private before(a: EventRow, b: EventRow): boolean {
    // Ids are time keys: decimal strings of 64-bit integers.
    const x = BigInt(a.id);
    const y = BigInt(b.id);
    return this._sort === "asc" ? x < y : x > y;
  }

  private ordered(rows: EventRow[]): boolean {
    for (let i = 1; i < rows.length; i++) if (!this.before(rows[i - 1]!, rows[i]!)) return false;
    return true;
  }

  private joins(a: EventRow[], b: EventRow[]): boolean {
    if (a.length === 0 || b.length === 0) return true;
    return this.before(a[a.length - 1]!, b[0]!);
  }

  private evict(keep: number): void {
    if (this.blocks.size <= this.maxBlocks) return;
    const centre = Math.floor((this.wantFirst + this.wantLast) / 2 / this.pageSize);
    const far = [...this.blocks.keys()].filter((b) => b !== keep).sort((x, y) => Math.abs(y - centre) - Math.abs(x - centre));
    for (const b of far) {
      if (this.blocks.size <= this.maxBlocks) break;
      this.blocks.delete(b);
    }
  }
}
