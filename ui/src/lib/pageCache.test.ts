import { describe, expect, it } from "vitest";
import type { EventRow, Page, SortOrder } from "./bindings";
import { PageCache, type PageRequest, type PageSource, type PositionRequest } from "./pageCache";

const BASE = 9007199254740993n; // above 2^53: ids must be compared as integers, not floats

function row(id: bigint): EventRow {
  const i = Number(id - BASE);
  return {
    id: id.toString(),
    time: new Date(Date.UTC(2025, 11, 1) + i * 1000).toISOString(),
    time_ms: Date.UTC(2025, 11, 1) + i * 1000,
    source: "ual",
    workload: null,
    record_type: null,
    operation: "MailItemsAccessed",
    action: "read",
    actor: `user${i % 13}@contoso.example`,
    mailbox: null,
    client_ip: null,
    client_port: null,
    client_app: null,
    user_agent: null,
    app_id: null,
    session_id: null,
    result: null,
    subject: null,
    folders: null,
    item_count: null,
    object: null,
    ip: null,
    new: [],
    app_name: null,
    app_note: null,
  };
}

type Call = (({ kind: "page" } & PageRequest) | ({ kind: "at" } & PositionRequest)) & { resolve: () => void; reject: (e: unknown) => void };

/**
 * A backend over `total` rows whose content is computed from the position (ids BASE+i ascending), with
 * manually resolved requests so tests control the order answers arrive in.
 */
function fakeSource(total: number) {
  const calls: Call[] = [];
  const idAt = (pos: number, sort: SortOrder) => BASE + BigInt(sort === "asc" ? pos : total - 1 - pos);
  const posOf = (id: string, sort: SortOrder) => {
    const i = Number(BigInt(id) - BASE);
    return sort === "asc" ? i : total - 1 - i;
  };
  const slice = (start: number, limit: number, sort: SortOrder): Page => {
    const end = Math.min(total, start + limit);
    const rows: EventRow[] = [];
    for (let p = start; p < end; p++) rows.push(row(idAt(p, sort)));
    return { rows, next: end < total && rows.length > 0 ? rows[rows.length - 1]!.id : null };
  };
  const source: PageSource = {
    page: (req) =>
      new Promise((resolve, reject) => {
        const start = req.after === null ? 0 : posOf(req.after, req.sort) + 1;
        calls.push({ kind: "page", ...req, resolve: () => resolve(slice(start, req.limit, req.sort)), reject });
      }),
    pageAt: (req) =>
      new Promise((resolve, reject) => {
        calls.push({ kind: "at", ...req, resolve: () => resolve(slice(req.position, req.limit, req.sort)), reject });
      }),
  };
  return { calls, source, idAt };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
}

/** Answers pending requests (in the order `pick` chooses) until none is left. */
async function drain(calls: Call[], pick: (n: number) => number = () => 0): Promise<void> {
  for (let k = 0; k < 10_000; k++) {
    await flush();
    if (calls.length === 0) return;
    const [c] = calls.splice(pick(calls.length), 1);
    c!.resolve();
  }
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("PageCache (random access by blocks)", () => {
  it("scrolls down by keyset cursor: each block after the first asks for rows after the previous block", async () => {
    const { calls, source, idAt } = fakeSource(5000);
    const cache = new PageCache(source, () => {}, { pageSize: 100 });
    cache.reset("", "asc");
    for (let top = 0; top < 1200; top += 37) {
      cache.ensureRange(top, top + 30);
      await drain(calls);
    }
    expect(cache.requests.seek).toBe(0);
    expect(cache.requests.keyset).toBe(13);
    for (let p = 0; p < 1230; p++) expect(cache.get(p)?.id).toBe(idAt(p, "asc").toString());
    expect(cache.inconsistencies).toBe(0);
  });

  it("a first block given with the reset is shown at once; the next block follows it by keyset", async () => {
    const { calls, source, idAt } = fakeSource(5000);
    const cache = new PageCache(source, () => {}, { pageSize: 100 });
    const first = source.page({ query: "q", sort: "desc", after: null, limit: 100 });
    calls.shift()!.resolve();
    cache.reset("q", "desc", await first);
    expect(cache.get(0)?.id).toBe(idAt(0, "desc").toString());
    expect(cache.get(99)?.id).toBe(idAt(99, "desc").toString());
    cache.ensureRange(0, 30);
    await flush();
    expect(calls.length).toBe(0);
    cache.ensureRange(90, 130);
    await drain(calls);
    expect(cache.requests).toEqual({ keyset: 2, seek: 0 });
    for (let p = 0; p < 200; p++) expect(cache.get(p)?.id).toBe(idAt(p, "desc").toString());
    expect(cache.inconsistencies).toBe(0);
  });

  it("jumps to 73 % and to the end of 10,000,000 rows with one seek each, then continues by keyset", async () => {
    const N = 10_000_000;
    const { calls, source, idAt } = fakeSource(N);
    const cache = new PageCache(source, () => {}, { pageSize: 500 });
    for (const sort of ["asc", "desc"] as const) {
      cache.reset("", sort);
      const at = Math.floor(N * 0.73);
      cache.ensureRange(at, at + 40);
      expect(calls.filter((c) => c.kind === "at").map((c) => (c as PositionRequest).position)).toEqual([Math.floor(at / 500) * 500]);
      await drain(calls);
      for (let p = at; p <= at + 40; p++) expect(cache.get(p)?.id).toBe(idAt(p, sort).toString());
      cache.ensureRange(at + 480, at + 520); // crosses into the next block: keyset from the loaded one
      await drain(calls);
      expect(cache.requests).toEqual({ keyset: 1, seek: 1 });
      // A jump across a block boundary fetches both blocks at once (two seeks, one round trip).
      const far = Math.floor(N * 0.31 / 500) * 500 + 480;
      cache.ensureRange(far, far + 40);
      expect(calls.filter((c) => c.kind === "at").length).toBe(2);
      await drain(calls);
      for (let p = far; p <= far + 40; p++) expect(cache.get(p)?.id).toBe(idAt(p, sort).toString());
      cache.ensureRange(N - 30, N - 1);
      await drain(calls);
      expect(cache.get(N - 1)?.id).toBe(idAt(N - 1, sort).toString());
      expect(cache.get(N)).toBeUndefined();
      expect(cache.end).toBe(N);
      expect(cache.requests.seek).toBe(4);
      expect(cache.inconsistencies).toBe(0);
    }
  });

  it("random jumps over 10,000,000 rows, answered out of order, never show a gap, a duplicate or a wrong row", async () => {
    const N = 10_000_000;
    const { calls, source, idAt } = fakeSource(N);
    const cache = new PageCache(source, () => {}, { pageSize: 500, maxBlocks: 40, maxInFlight: 3 });
    const rand = rng(42);
    for (const sort of ["asc", "desc"] as const) {
      cache.reset("q", sort);
      for (let jump = 0; jump < 150; jump++) {
        const top = rand() < 0.1 ? N - 25 : Math.floor(rand() * N);
        const last = Math.min(N - 1, top + 40);
        cache.ensureRange(top, last);
        // Sometimes the user moves on before anything arrives: only some answers come in now.
        if (rand() < 0.3) {
          await flush();
          if (calls.length > 0) calls.splice(Math.floor(rand() * calls.length), 1)[0]!.resolve();
          continue;
        }
        await drain(calls, (n) => Math.floor(rand() * n));
        const seen = new Set<string>();
        for (let p = top; p <= last; p++) {
          const r = cache.get(p);
          expect(r, `row ${p} is loaded`).toBeDefined();
          expect(r!.id).toBe(idAt(p, sort).toString());
          expect(seen.has(r!.id)).toBe(false);
          seen.add(r!.id);
        }
        expect(cache.blockCount).toBeLessThanOrEqual(40);
      }
      expect(cache.inconsistencies).toBe(0);
      expect(cache.error).toBeNull();
    }
  }, 60_000);

  it("knows how many rows exist so far before the count: the furthest loaded block, exact once the end is seen", async () => {
    const { calls, source } = fakeSource(1234);
    const cache = new PageCache(source, () => {}, { pageSize: 100, maxBlocks: 4 });
    const first = source.page({ query: "q", sort: "asc", after: null, limit: 100 });
    calls.shift()!.resolve();
    cache.reset("q", "asc", await first);
    expect(cache.known).toBe(100);
    expect(cache.end).toBeNull();
    // Scrolling on loads the next blocks: what is known grows with them.
    cache.ensureRange(90, 250);
    await drain(calls);
    expect(cache.known).toBe(300);
    // Evicting blocks far from the view does not make the list any shorter.
    cache.ensureRange(700, 720);
    await drain(calls);
    cache.ensureRange(1000, 1010);
    await drain(calls);
    expect(cache.blockCount).toBeLessThanOrEqual(4);
    expect(cache.get(0)).toBeUndefined();
    expect(cache.known).toBe(1100);
    cache.ensureRange(1190, 1300);
    await drain(calls);
    expect(cache.end).toBe(1234);
    expect(cache.known).toBe(1234);
    expect(cache.inconsistencies).toBe(0);
    // A new query or order starts from nothing known.
    cache.reset("q", "desc");
    expect(cache.known).toBe(0);
    const empty = new PageCache(fakeSource(0).source, () => {}, { pageSize: 100 });
    empty.reset("none", "asc", { rows: [], next: null });
    expect(empty.known).toBe(0);
    expect(empty.end).toBe(0);
  });

  it("answers for an older query are dropped", async () => {
    const { calls, source } = fakeSource(5000);
    const cache = new PageCache(source, () => {}, { pageSize: 100 });
    cache.reset("old", "asc");
    cache.ensureRange(2000, 2030);
    const stale = calls.splice(0);
    cache.reset("new", "desc");
    for (const c of stale) c.resolve();
    await flush();
    expect(cache.get(2000)).toBeUndefined();
    cache.ensureRange(0, 10);
    await drain(calls);
    expect(cache.get(0)?.id).toBe((BASE + 4999n).toString());
    expect(cache.query).toBe("new");
  });

  it("a short list ends where its last page ends; positions past it stay empty", async () => {
    const { calls, source } = fakeSource(230);
    const cache = new PageCache(source, () => {}, { pageSize: 100 });
    cache.reset("", "asc");
    cache.ensureRange(150, 400);
    await drain(calls);
    expect(cache.end).toBe(230);
    expect(cache.get(229)).toBeDefined();
    expect(cache.get(230)).toBeUndefined();
    expect(calls.length).toBe(0);
  });

  it("stops on an error and fetches again on retry", async () => {
    const { calls, source } = fakeSource(5000);
    const cache = new PageCache(source, () => {}, { pageSize: 100 });
    cache.reset("", "asc");
    cache.ensureRange(0, 10);
    await flush();
    calls.shift()!.reject({ code: "io", message: "disk", detail: null });
    await flush();
    expect(cache.error).not.toBeNull();
    cache.ensureRange(0, 10);
    await flush();
    expect(calls.length).toBe(0);
    cache.retry();
    await drain(calls);
    expect(cache.get(5)).toBeDefined();
    expect(cache.error).toBeNull();
  });

  it("counts a backend that repeats a row across blocks", async () => {
    const pages: PageSource = {
      page: async (req) => {
        const start = req.after === null ? 0 : 99; // repeats row 99 at the start of block 1
        return { rows: Array.from({ length: req.limit }, (_, k) => row(BASE + BigInt(start + k))), next: row(BASE + BigInt(start + req.limit - 1)).id };
      },
      pageAt: async (req) => ({ rows: Array.from({ length: req.limit }, (_, k) => row(BASE + BigInt(req.position - 1 + k))), next: "x" }),
    };
    const cache = new PageCache(pages, () => {}, { pageSize: 100 });
    cache.reset("", "asc");
    cache.ensureRange(0, 150);
    await new Promise((r) => setTimeout(r, 20));
    await cache.idle();
    expect(cache.inconsistencies).toBe(1);
  });
});
