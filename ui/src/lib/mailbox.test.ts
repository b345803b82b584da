import { describe, expect, it } from "vitest";
import type { MailboxEntry, MailboxPage, MailboxSession, ReportRow } from "./bindings";
// What the real engine answers for tests/fixtures/activities (tests/lib/make-mailbox-fixture.mjs).
import fixture from "../../tests/lib/mailbox-fixture.json";
import {
  countsText,
  describeEntry,
  durationPercent,
  emptyStream,
  groupReportRows,
  groupSessions,
  mergePage,
  paneInfo,
  progressionText,
  reportFileName,
  sentenceText,
  sessionKindLabel,
  sessionSpan,
  suggestMailboxes,
  timeOfDay,
} from "./mailbox";

const ENTRIES = fixture.entries as MailboxEntry[];
const SESSIONS = fixture.sessions as MailboxSession[];

function page(from: number, to: number, next: string | null): MailboxPage {
  const entries = ENTRIES.slice(from, to);
  const ids = new Set(entries.map((e) => e.session));
  return { mailbox: fixture.mailbox, entries, sessions: SESSIONS.filter((s) => ids.has(s.id)), next };
}

const byOp = (op: string, n = 0) => ENTRIES.filter((e) => e.operation === op)[n] as MailboxEntry;

describe("pages and sessions", () => {
  it("merging pages gives the same blocks as one page, without duplicates", () => {
    const whole = groupSessions(mergePage(emptyStream(fixture.mailbox), page(0, ENTRIES.length, null)));
    let s = mergePage(emptyStream(fixture.mailbox), page(0, 10, "c1"));
    s = mergePage(s, page(10, 20, "c2"));
    s = mergePage(s, page(19, ENTRIES.length, null)); // an overlapping entry is not added twice
    expect(s.entries.length).toBe(ENTRIES.length);
    expect(s.next).toBeNull();
    const paged = groupSessions(s);
    expect(paged.map((b) => [b.session.id, b.entries.map((e) => e.id)])).toEqual(whole.map((b) => [b.session.id, b.entries.map((e) => e.id)]));
  });

  it("blocks are ordered by first activity, numbered, entries in time order", () => {
    const blocks = groupSessions(mergePage(emptyStream(fixture.mailbox), page(0, ENTRIES.length, null)));
    expect(blocks.length).toBe(SESSIONS.length);
    const clients = blocks.filter((b) => b.session.kind !== "server");
    expect(clients.map((b) => b.n)).toEqual(clients.map((_, i) => i + 1));
    for (const b of blocks.filter((x) => x.session.kind === "server")) expect(b.n).toBe(0);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.session.first_ms).toBeGreaterThanOrEqual(blocks[i - 1]!.session.first_ms);
    for (const b of blocks) {
      for (let i = 1; i < b.entries.length; i++) expect(b.entries[i]!.time_ms).toBeGreaterThanOrEqual(b.entries[i - 1]!.time_ms);
    }
  });

  it("the intruder's IP is new; the overlapping OWA and UAL sessions say so", () => {
    const blocks = groupSessions(mergePage(emptyStream(fixture.mailbox), page(0, ENTRIES.length, null)));
    const first = blocks.find((b) => b.session.ips.includes("198.51.100.77"));
    expect(first?.newIps).toEqual(["198.51.100.77"]);
    const later = blocks.filter((b) => b.session.ips.includes("198.51.100.77")).slice(1);
    for (const b of later) expect(b.newIps).toEqual([]);
    expect(blocks[0]?.newIps).toEqual([]); // the first session has nothing to be new against
    const owa = blocks.find((b) => b.session.session_id === "a7e3b9c1-52d4-4f0e-8c6b-1e2d3f4a5b6c");
    const ual = blocks.find((b) => b.session.session_id === "5e55f00d-0000-4000-8000-0000000a77ac");
    expect(owa?.overlaps).toContain(ual?.n);
    expect(ual?.overlaps).toContain(owa?.n);
    // Server-side deliveries never overlap anything.
    for (const b of blocks.filter((x) => x.session.kind === "server")) expect(b.overlaps).toEqual([]);
  });

  it("an entry whose session summary has not arrived still gets a block", () => {
    const e = ENTRIES[0]!;
    const blocks = groupSessions({ entries: [e], sessions: new Map() });
    expect(blocks[0]?.session.id).toBe(e.session);
    expect(blocks[0]?.session.ips).toEqual([e.client_ip]);
  });

  it("session texts", () => {
    const s = SESSIONS.find((x) => x.session_id === "a7e3b9c1-52d4-4f0e-8c6b-1e2d3f4a5b6c")!;
    expect(sessionSpan(s)).toBe("2018-05-14 14:10:00 – 14:18:00 UTC");
    expect(sessionSpan({ ...s, last_ms: s.first_ms })).toBe("2018-05-14 14:10:00 UTC");
    expect(sessionSpan({ ...s, last_ms: s.first_ms + 86_400_000 })).toBe("2018-05-14 14:10:00 – 2018-05-15 14:10:00 UTC");
    expect(countsText(s)).toMatch(/^6 read · 6 search · 2 logon/);
    expect(sessionKindLabel("server")).toMatch(/Server side/);
    expect(sessionKindLabel("whatever")).toBe("whatever");
    expect(timeOfDay(Date.UTC(2018, 4, 14, 14, 12, 0, 800))).toBe("14:12:00.800");
  });
});

describe("entries in plain words", () => {
  it("reading pane, with sender and duration", () => {
    const start = byOp("ReadingPaneDisplayStart", 2);
    expect(sentenceText(describeEntry(start))).toBe("Opened “Invoice 4471 - payment due” from accounts@fabrikam.example in the reading pane");
    expect(paneInfo(start.pane)).toEqual({ text: "read for 1 min 30 s", ms: 90_000, bar: true, unpaired: false });
    const end = byOp("ReadingPaneDisplayEnd", 2);
    expect(sentenceText(describeEntry(end))).toBe("Closed “Invoice 4471 - payment due” in the reading pane");
    expect(paneInfo(end.pane)?.text).toBe("closed after 1 min 30 s");
    expect(paneInfo(end.pane)?.bar).toBe(false);
    expect(paneInfo(null)).toBeNull();
  });

  it("unpaired starts and ends are marked", () => {
    const lure = ENTRIES.find((e) => e.pane?.marker === "start" && e.pane.paired_id === null)!;
    expect(paneInfo(lure.pane)).toMatchObject({ unpaired: true, ms: null, bar: false });
    expect(paneInfo(lure.pane)?.text).toMatch(/^no end recorded/);
    const late = ENTRIES.find((e) => e.pane?.marker === "end" && e.pane.paired_id === null)!;
    expect(paneInfo(late.pane)?.text).toMatch(/^no start recorded/);
    // Its item was never delivered in this data: said so, not left blank.
    expect(sentenceText(describeEntry(late))).toBe("Closed an item this data does not describe in the reading pane");
  });

  it("typed search: the progression and what it became", () => {
    const s = ENTRIES.find((e) => e.search !== null)!;
    expect(sentenceText(describeEntry(s))).toBe("Typed a search that became “invoice”");
    expect(progressionText(s.search!.keystrokes, s.search!.progression)).toBe("i → in → inv → invo → invoice");
    expect(progressionText(["i", "in", "inv", "invoice"])).toBe("i → in → inv → invoice");
    const run: MailboxEntry = { ...s, search: { ...s.search!, keystrokes: ["invoice"], progression: "invoice" } };
    expect(sentenceText(describeEntry(run))).toBe("Searched for “invoice”");
  });

  it("every action reads as a sentence; the subject keeps attacker text verbatim", () => {
    expect(sentenceText(describeEntry(byOp("ServerLogon")))).toBe("Signed in to the mailbox server");
    expect(sentenceText(describeEntry(byOp("Logon")))).toBe("Outlook on the web session started");
    expect(sentenceText(describeEntry(byOp("UserLoggedIn")))).toBe("Signed in");
    expect(sentenceText(describeEntry(byOp("OpenedAnAttachment", 1)))).toBe(
      "Opened an attachment of “Invoice 4471 - payment due” from accounts@fabrikam.example",
    );
    expect(sentenceText(describeEntry(byOp("Reply")))).toBe("Replied to “Invoice 4471 - payment due” from accounts@fabrikam.example");
    expect(sentenceText(describeEntry(byOp("Send")))).toBe("Sent “RE: Invoice 4471 - payment due”");
    expect(sentenceText(describeEntry(byOp("Move")))).toBe("Moved “Invoice 4471 - payment due” from Inbox to RSS Subscriptions");
    expect(sentenceText(describeEntry(byOp("Delete")))).toBe("Deleted “Q2 invoice batch” from billing@fabrikam.example");
    expect(sentenceText(describeEntry(byOp("New-InboxRule")))).toBe("Created or changed an inbox rule");
    expect(sentenceText(describeEntry(byOp("Set-Mailbox")))).toBe("Changed the mailbox's forwarding");
    expect(sentenceText(describeEntry(byOp("MailItemsAccessed")))).toBe("Accessed 2 messages (Bind)");
    const lure = byOp("MessageDelivered", 2);
    expect(sentenceText(describeEntry(lure))).toBe('Received “=HYPERLINK("http://pay.example/4471","Pay now")” from ceo@contoso-mail.example');
    const xss: MailboxEntry = { ...lure, subject: "<img src=x onerror=alert(1)>" };
    const parts = describeEntry(xss);
    expect(parts.find((p) => p.kind === "subject")?.text).toBe("“<img src=x onerror=alert(1)>”");
    const unknown: MailboxEntry = { ...lure, action: "other", operation: "FlagCleared", subject: null, message_ids: [], item_id: null };
    expect(sentenceText(describeEntry(unknown))).toBe("FlagCleared");
  });

  it("duration bars: linear to 5 minutes, never invisible", () => {
    expect(durationPercent(150_000)).toBe(50);
    expect(durationPercent(600_000)).toBe(100);
    expect(durationPercent(500)).toBe(2);
    expect(durationPercent(0)).toBe(0);
  });
});

describe("reports and suggestions", () => {
  it("reads by item: rows under their item, in order", () => {
    const rows = fixture.reports["reads-by-item"].rows as ReportRow[];
    const groups = groupReportRows(rows);
    expect(groups.map((g) => g.group)).toEqual(["AAMkAGRmItemQ2Batch=", "AAMkAGRmItemInv4471=", "AAMkAGRmItemLure=", "AAMkAGRmItemLateEnd="].filter((g) => rows.some((r) => r.group === g)));
    expect(groups.reduce((n, g) => n + g.rows.length, 0)).toBe(rows.length);
    expect(groupReportRows([])).toEqual([]);
  });

  it("the engine's columns are Magic Unicorn's", () => {
    expect(fixture.reports.logons.columns).toEqual(["Date", "Time", "Source IP", "Logon Type", "App Type", "User", "Client"]);
    expect(fixture.reports.searches.columns).toEqual(["Date", "Time", "Platform", "Query", "Last Login ip"]);
  });

  it("report file names are safe", () => {
    expect(reportFileName("adele.vance@contoso.example", "reads-by-time")).toBe("adele.vance@contoso.example-reads-by-time.csv");
    expect(reportFileName('a/b:c*"', "logons")).toBe("a_b_c_-logons.csv");
  });

  it("mailbox suggestions: addresses only, typed prefix first, then by events, one per address", () => {
    const vals = [
      { value: "alice@contoso.example", count: 10 },
      { value: "adele.vance@contoso.example", count: 39 },
      { value: "ADELE.VANCE@contoso.example", count: 5 },
      { value: "NT AUTHORITY\\SYSTEM", count: 100 },
      { value: "bob@contoso.example", count: 50 },
    ];
    expect(suggestMailboxes(vals, "").map((v) => v.value)).toEqual(["bob@contoso.example", "adele.vance@contoso.example", "alice@contoso.example"]);
    expect(suggestMailboxes(vals, "a").map((v) => v.value)).toEqual(["adele.vance@contoso.example", "alice@contoso.example", "bob@contoso.example"]);
    expect(suggestMailboxes(vals, "vance").map((v) => v.value)).toEqual(["adele.vance@contoso.example"]);
    expect(suggestMailboxes(vals, "", 1).length).toBe(1);
  });
});
