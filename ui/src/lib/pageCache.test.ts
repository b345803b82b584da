import { describe, expect, it } from "vitest";
import type { EventRow, Page } from "./bindings";
import { PageCache, type PageRequest } from "./pageCache";

function row(i: number, tag = ""): EventRow {
  return {
    id: `${9007199254740993n + BigInt(i)}${tag}`,
    time: new Date(Date.UTC(2025, 11, 1) + i * 1000).toISOString(),
    time_ms: Date.UTC(2025, 11, 1) + i * 1000,
    source: "ual",
    workload: null,
    record_type: null,
    operation: "MailItemsAccessed",
    action: "read",
    actor: `user${i}@contoso.example`,
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
  };
}

/** A fake backend with manually resolved requests, to control ordering. */
function fakeBackend(total: number, tagFor: (q: string) => string = () => "") {
  const calls: (PageRequest & { resolve: () => void; reject: (e: unknown) => void })[] = [];
  const fetcher = (req: PageRequest): Promise<Page> =>
    new Promise<Page>((resolve, reject) => {
      const start = req.after === null ? 0 : Number(req.after.split(":")[1]);
      const end = Math.min(total, start + req.limit);
      const rows: EventRow[] = [];
      for (let i = start; i < end; i++) rows.push(row(req.sort === "asc" ? i : total - 1 - i, tagFor(req.query)));
      const next = end < total ? `c:${end}` : null;
      calls.push({ ...req, resolve: () => resolve({ rows, next }), reject });
    });
  return { calls, fetcher };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

async function drain(calls: { resolve: () => void }[], done: () => boolean): Promise<void> {
  let k = 0;
  while (!done() && k++ < 10_000) {
    const c = calls.shift();
    if (c) c.resolve();
    await flush();
  }
}

describe("PageCache", () => {
  it("fetches pages in order with the previous cursor until the wanted row is covered", async () => {
    const be = fakeBackend(2_000);
    const log: (string | null)[] = [];
    const cache = new PageCache(
      (r) => {
        log.push(r.after);
        return be.fetcher(r);
      },
      () => {},
      500,
    );
    cache.reset("", "asc");
    cache.ensure(1_200);
    await drain(be.calls, () => !cache.loading);
    expect(log).toEqual([null, "c:500", "c:1000"]);
    expect(cache.length).toBe(1_500);
    expect(cache.complete).toBe(false);
    // Rows are exactly 0..1499, no gaps, no duplicates.
    for (let i = 0; i < 1_500; i++) expect(cache.get(i)?.id).toBe(row(i).id);
    expect(cache.get(1_500)).toBeUndefined();
  });

  it("only one fetch runs at a time, however often ensure is called", async () => {
    const be = fakeBackend(2_000);
    const cache = new PageCache(be.fetcher, () => {}, 500);
    cache.reset("", "asc");
    for (let i = 0; i < 10; i++) cache.ensure(1_999);
    await flush();
    expect(be.calls.length).toBe(1);
    await drain(be.calls, () => !cache.loading);
    expect(cache.length).toBe(2_000);
    expect(cache.complete).toBe(true);
    // Nothing more is fetched after the end.
    cache.ensure(5_000);
    await flush();
    expect(be.calls.length).toBe(0);
  });

  it("stops early when the viewport moves back up", async () => {
    const be = fakeBackend(10_000);
    const cache = new PageCache(be.fetcher, () => {}, 500);
    cache.reset("", "asc");
    cache.ensure(9_999);
    be.calls.shift()?.resolve();
    await flush();
    cache.ensure(10); // user went back to the top
    await drain(be.calls, () => !cache.loading);
    expect(cache.length).toBe(1_000); // the request in flight finished; no more after it
  });

  it("drops responses from an older query (generation guard)", async () => {
    const be = fakeBackend(3_000, (q) => (q === "old" ? "-old" : ""));
    const cache = new PageCache(be.fetcher, () => {}, 500);
    cache.reset("old", "asc");
    cache.ensure(0);
    await flush();
    const stale = be.calls.shift();
    cache.reset("new", "asc");
    cache.ensure(0);
    await flush();
    const fresh = be.calls.shift();
    fresh?.resolve();
    await flush();
    stale?.resolve(); // arrives late
    await flush();
    expect(cache.length).toBe(500);
    for (let i = 0; i < 500; i++) expect(cache.get(i)?.id.endsWith("-old")).toBe(false);
    expect(cache.query).toBe("new");
    expect(be.calls.length).toBe(0);
  });

  it("a stale failure does not poison the new query", async () => {
    const be = fakeBackend(1_000);
    const cache = new PageCache(be.fetcher, () => {}, 500);
    cache.reset("a", "asc");
    cache.ensure(0);
    await flush();
    const stale = be.calls.shift();
    cache.reset("b", "desc");
    cache.ensure(0);
    await flush();
    stale?.reject({ code: "internal", message: "boom", detail: null });
    be.calls.shift()?.resolve();
    await flush();
    expect(cache.error).toBeNull();
    expect(cache.length).toBe(500);
    expect(cache.get(0)?.id).toBe(row(999).id);
  });

  it("never shows a row twice even if the backend repeats one", async () => {
    const rows = [row(0), row(1), row(2)];
    const pages: Page[] = [
      { rows: [rows[0]!, rows[1]!], next: "x1" },
      { rows: [rows[1]!, rows[2]!], next: null },
    ];
    let n = 0;
    const cache = new PageCache(async () => pages[n++]!, () => {}, 2);
    cache.reset("", "asc");
    cache.ensure(3);
    await cache.idle();
    expect(cache.length).toBe(3);
    expect([0, 1, 2].map((i) => cache.get(i)?.id)).toEqual(rows.map((r) => r.id));
    expect(cache.duplicatesDropped).toBe(1);
    expect(cache.complete).toBe(true);
  });

  it("stops with an error instead of looping on an empty page", async () => {
    let calls = 0;
    const cache = new PageCache(async () => {
      calls++;
      return { rows: [], next: "same" };
    });
    cache.reset("", "asc");
    cache.ensure(0);
    await cache.idle();
    expect(calls).toBe(1);
    expect(cache.error).toBeInstanceOf(Error);
  });

  it("keeps the error until retry, then continues from the same cursor", async () => {
    let fail = true;
    const log: (string | null)[] = [];
    const be = fakeBackend(1_000);
    const cache = new PageCache(
      (r) => {
        log.push(r.after);
        if (r.after !== null && fail) return Promise.reject({ code: "io", message: "disk", detail: null });
        const p = be.fetcher(r);
        be.calls.shift()?.resolve();
        return p;
      },
      () => {},
      500,
    );
    cache.reset("", "asc");
    cache.ensure(700);
    await cache.idle();
    expect(cache.length).toBe(500);
    expect(cache.error).toEqual({ code: "io", message: "disk", detail: null });
    cache.ensure(700); // no automatic retry storm
    await cache.idle();
    expect(log).toEqual([null, "c:500"]);
    fail = false;
    cache.retry();
    await cache.idle();
    expect(log).toEqual([null, "c:500", "c:500"]);
    expect(cache.length).toBe(1_000);
    expect(cache.error).toBeNull();
  });

  it("calls onChange when rows arrive", async () => {
    let changes = 0;
    const be = fakeBackend(10);
    const cache = new PageCache(be.fetcher, () => changes++, 500);
    cache.reset("", "asc");
    const before = changes;
    cache.ensure(0);
    await drain(be.calls, () => !cache.loading);
    expect(changes).toBeGreaterThan(before);
    expect(cache.indexOf(row(3).id)).toBe(3);
    expect(cache.indexOf("nope")).toBe(-1);
  });
});
