// The mailbox activity view's logic, kept out of the component so it can be unit-tested: merging the
// engine's cursor pages, grouping entries into their client sessions, and saying what each entry means
// in plain words. Everything here returns text; the component renders it through text interpolation.

import type { MailboxEntry, MailboxPage, MailboxSession, PaneTiming, ReportKind, ReportRow } from "./bindings";
import { formatDuration, formatTimeMs, plural, zoneSuffix } from "./format";
import { parseRangeInput } from "./collectForm";
import { displayZone } from "./zone.svelte";

/** What the stream holds after one or more pages. */
export interface StreamState {
  mailbox: string;
  entries: MailboxEntry[];
  /** Latest summary of every session seen so far, by id. */
  sessions: Map<string, MailboxSession>;
  next: string | null;
}

export function emptyStream(mailbox: string): StreamState {
  return { mailbox, entries: [], sessions: new Map(), next: null };
}

/**
 * Adds a page. Entries are appended (an id already present is not added twice); a session's summary
 * is replaced by the later page's, which has grown with the entries that continued it.
 */
export function mergePage(state: StreamState, page: MailboxPage): StreamState {
  const seen = new Set(state.entries.map((e) => e.id));
  const entries = state.entries.concat(page.entries.filter((e) => !seen.has(e.id)));
  const sessions = new Map(state.sessions);
  for (const s of page.sessions) sessions.set(s.id, s);
  return { mailbox: page.mailbox || state.mailbox, entries, sessions, next: page.next };
}

/** One block of the stream: a session and its entries. */
export interface SessionBlock {
  /** 1-based number of a client session in order of first activity ("Session 3"); 0 for server-side records. */
  n: number;
  session: MailboxSession;
  entries: MailboxEntry[];
  /** The session's IPs that no earlier session of this view used. */
  newIps: string[];
  /** Numbers of other client sessions active at the same time. */
  overlaps: number[];
}

function placeholderSession(id: string, e: MailboxEntry): MailboxSession {
  return {
    id,
    kind: "ip-client",
    session_id: null,
    first_time: e.time,
    first_ms: e.time_ms,
    last_time: e.time,
    last_ms: e.time_ms,
    ips: e.client_ip ? [e.client_ip] : [],
    client: null,
    app: null,
    user_agent: null,
    events: 0,
    counts: [],
    open: false,
  };
}

/**
 * Groups the entries into their sessions, ordered by the session's first activity (entries keep
 * their time order inside a block). Marks IPs seen for the first time and sessions that overlap.
 */
export function groupSessions(state: Pick<StreamState, "entries" | "sessions">): SessionBlock[] {
  const byId = new Map<string, SessionBlock>();
  for (const e of state.entries) {
    let b = byId.get(e.session);
    if (!b) {
      const session = state.sessions.get(e.session) ?? placeholderSession(e.session, e);
      b = { n: 0, session, entries: [], newIps: [], overlaps: [] };
      byId.set(e.session, b);
    }
    b.entries.push(e);
  }
  const blocks = [...byId.values()].sort((a, b) => a.session.first_ms - b.session.first_ms || cmpId(a.session.id, b.session.id));
  const seenIps = new Set<string>();
  let n = 0;
  for (const b of blocks) {
    // Server-side records (deliveries) are not a sitting of anyone: they get no number.
    b.n = b.session.kind === "server" ? 0 : ++n;
    const ips = sessionIps(b);
    b.newIps = ips.filter((ip) => !seenIps.has(ip));
    for (const ip of ips) seenIps.add(ip);
  }
  // The very first session's IPs are "new" by definition; that says nothing, so only later ones count.
  const firstWithIp = blocks.find((b) => sessionIps(b).length > 0);
  if (firstWithIp) firstWithIp.newIps = [];
  const clients = blocks.filter((b) => b.session.kind !== "server");
  for (const b of clients) {
    for (const o of clients) {
      if (o === b) continue;
      if (o.session.first_ms <= b.session.last_ms && b.session.first_ms <= o.session.last_ms) b.overlaps.push(o.n);
    }
  }
  return blocks;
}

/** IPs of a session: the engine's list, else those its entries name. */
export function sessionIps(b: Pick<SessionBlock, "session" | "entries">): string[] {
  if (b.session.ips.length > 0) return b.session.ips;
  const out: string[] = [];
  for (const e of b.entries) if (e.client_ip && !out.includes(e.client_ip)) out.push(e.client_ip);
  return out;
}

function cmpId(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "Client session", "Same IP and client (no session id)", "Server side (no client)". */
export function sessionKindLabel(kind: string): string {
  switch (kind) {
    case "session-id":
      return "Client session";
    case "ip-client":
      return "Same IP and client, no session id";
    case "server":
      return "Server side, no client";
    default:
      return kind;
  }
}

/** "6 read · 6 search · 2 logon" (the engine's counts, most first). */
export function countsText(s: MailboxSession): string {
  return s.counts.map((c) => `${c.count} ${c.action}`).join(" · ");
}

/** `14:12:00.800` in the display zone (the session's span above it names the zone). */
export function timeOfDay(ms: number, zone: string = displayZone()): string {
  return formatTimeMs(ms, "ms", zone).slice(11);
}

/** `2018-05-14` in the display zone. */
export function dayOf(ms: number, zone: string = displayZone()): string {
  return formatTimeMs(ms, "ms", zone).slice(0, 10);
}

/**
 * Two moments in the display zone, to the second, the zone at the end: "2018-05-14 14:10:00 – 14:18:00 UTC",
 * "2018-05-14 10:10:00 – 10:18:00 UTC-04:00", with the second date only when it differs.
 */
export function momentSpan(firstMs: number, lastMs: number, zone: string = displayZone()): string {
  const a = formatTimeMs(firstMs, "second", zone);
  const b = formatTimeMs(lastMs, "second", zone);
  if (a === "" || b === "") return "";
  const z = zoneSuffix(lastMs, zone);
  if (a === b) return `${a} ${z}`;
  return a.slice(0, 10) === b.slice(0, 10) ? `${a} – ${b.slice(11)} ${z}` : `${a} – ${b} ${z}`;
}

/** A session's time span in the display zone (see momentSpan). */
export function sessionSpan(s: MailboxSession, zone: string = displayZone()): string {
  return momentSpan(s.first_ms, s.last_ms, zone);
}

// ---- the From/To fields, typed in the display zone (the engine gets UTC ISO times)

/** A typed bound and the exact moment it stands for (kept when a zone change rewrote the text). */
export interface BoundPin {
  text: string;
  ms: number;
}

const ZONED = /^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)\s*(z|[+-]\d{2}:?\d{2})$/i;
const WALL = /^(\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(:\d{2})?)?)(?:\.(\d{1,9}))?$/;

/**
 * A typed From (or, with `end`, To) as Unix ms: "2018-05-14", "2018-05-14 10:00", "2018-05-14T10:00:30(.250)"
 * are wall-clock times in `zone`; a time with its own zone ("…Z", "…+02:00") is read as written. A bare
 * date as To means the whole day. null when the field is empty, undefined when it is not such a time.
 * `pin`: the text a zone change wrote, which stands for exactly its moment.
 */
export function boundMs(text: string, zone: string, end: boolean, pin: BoundPin | null = null): number | null | undefined {
  const t = text.trim();
  if (t === "") return null;
  if (pin !== null && pin.text.trim() === t) return pin.ms;
  const z = ZONED.exec(t);
  if (z) {
    const offset = (z[3] ?? "").toUpperCase() === "Z" ? "Z" : (z[3] ?? "").replace(/^([+-]\d{2}):?(\d{2})$/, "$1:$2");
    const time = /^\d:/.test(z[2] ?? "") ? `0${z[2]}` : z[2];
    const ms = Date.parse(`${z[1]}T${time}${offset}`);
    return Number.isNaN(ms) ? undefined : ms;
  }
  const m = WALL.exec(t);
  if (!m) return undefined;
  const base = m[1] ?? "";
  const frac = m[3];
  if (frac !== undefined && m[2] === undefined) return undefined; // a fraction needs seconds
  const ms = parseRangeInput(base, zone);
  if (ms === null) return undefined;
  if (end && base.length === 10) {
    const [y, mo, d] = base.split("-").map(Number) as [number, number, number];
    const next = parseRangeInput(new Date(Date.UTC(y, mo - 1, d + 1)).toISOString().slice(0, 10), zone);
    return next === null ? undefined : next - 1;
  }
  return ms + (frac === undefined ? 0 : Number(frac.padEnd(3, "0").slice(0, 3)));
}

/** A moment as the From/To fields show it in `zone`: to the minute when whole, else to the second. */
export function formatBoundInput(ms: number, zone: string): string {
  return formatTimeMs(ms, ms % 60_000 === 0 ? "minute" : "second", zone);
}

/**
 * The zone the fields are read in, named: "UTC", "America/New_York (UTC-04:00)", with the offset at `atMs`
 * (best the typed time: daylight saving time moves it).
 */
export function zoneLabel(zone: string, atMs: number = Date.now()): string {
  return zone === "UTC" ? "UTC" : `${zone} (${zoneSuffix(atMs, zone)})`;
}

/** A From/To pair as typed, with the pins a zone change left (see `boundMs`). */
export interface BoundFields {
  from: string;
  to: string;
  fromPin: BoundPin | null;
  toPin: BoundPin | null;
}

/**
 * The fields rewritten from `oldZone` into `newZone` for the same moments, each pinned to its exact
 * moment (so a fraction of a second survives). Empty fields and text that is not a time stay as typed.
 */
export function rezoneBounds(f: BoundFields, oldZone: string, newZone: string): BoundFields {
  const out = { ...f };
  const a = boundMs(f.from, oldZone, false, f.fromPin);
  if (typeof a === "number") {
    out.from = formatBoundInput(a, newZone);
    out.fromPin = { text: out.from, ms: a };
  }
  const b = boundMs(f.to, oldZone, true, f.toPin);
  if (typeof b === "number") {
    out.to = formatBoundInput(b, newZone);
    out.toPin = { text: out.to, ms: b };
  }
  return out;
}

/** The zone named beside From/To fields: its offset at the typed time, else at `fallbackIso`, else now. */
export function fieldsZoneLabel(fromText: string, toText: string, zone: string, fallbackIso: string | null | undefined): string {
  const typed = boundMs(fromText, zone, false) ?? boundMs(toText, zone, true);
  const fallback = fallbackIso ? Date.parse(fallbackIso) : NaN;
  return zoneLabel(zone, typeof typed === "number" ? typed : Number.isNaN(fallback) ? Date.now() : fallback);
}

export type RangeResult = { fromMs: number | null; toMs: number | null } | { problem: string };

/**
 * The From/To fields read in `zone`, or what is wrong in words. `exampleDay` ("2018-05-14", best a day of
 * the case) is used in the message.
 */
export function mailboxRange(
  fromText: string,
  toText: string,
  zone: string,
  exampleDay: string,
  pins: { from?: BoundPin | null; to?: BoundPin | null } = {},
): RangeResult {
  const fromMs = boundMs(fromText, zone, false, pins.from ?? null);
  const toMs = boundMs(toText, zone, true, pins.to ?? null);
  const how = (name: string, text: string) =>
    `${name} needs a date like ${exampleDay} or ${exampleDay} 10:00 (in ${zone}); “${text.trim()}” is not one.`;
  if (fromMs === undefined) return { problem: how("From", fromText) };
  if (toMs === undefined) return { problem: how("To", toText) };
  if (fromMs !== null && toMs !== null && fromMs > toMs) return { problem: "From is later than To. Swap the two times." };
  return { fromMs, toMs };
}

/** What the engine reads: ISO 8601 UTC with milliseconds, or null. */
export function boundIso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The range a stream shows, in `zone`: "2018-05-14 10:00 – 2018-05-14 23:59:59 UTC-04:00", "from …", "until …". */
export function rangeText(fromMs: number | null, toMs: number | null, zone: string = displayZone()): string {
  const fmt = (ms: number) => formatBoundInput(ms, zone);
  if (fromMs !== null && toMs !== null) return `${fmt(fromMs)} – ${fmt(toMs)} ${zoneSuffix(toMs, zone)}`;
  if (fromMs !== null) return `from ${fmt(fromMs)} ${zoneSuffix(fromMs, zone)}`;
  if (toMs !== null) return `until ${fmt(toMs)} ${zoneSuffix(toMs, zone)}`;
  return "";
}

/**
 * Placeholders for the From/To fields: the case's first and last minute in `zone` (so an empty field
 * reads as "from the start", "to the end"), or the shape of a time when the case has no events.
 */
export function rangePlaceholders(firstIso: string | null | undefined, lastIso: string | null | undefined, zone: string): { from: string; to: string } {
  const a = firstIso ? Date.parse(firstIso) : NaN;
  const b = lastIso ? Date.parse(lastIso) : NaN;
  if (Number.isNaN(a) || Number.isNaN(b)) return { from: "YYYY-MM-DD hh:mm", to: "YYYY-MM-DD hh:mm" };
  return {
    from: formatTimeMs(Math.floor(a / 60_000) * 60_000, "minute", zone),
    to: formatTimeMs(Math.ceil(b / 60_000) * 60_000, "minute", zone),
  };
}

/** Length of a session in words, "" for a single moment. */
export function sessionLength(s: MailboxSession): string {
  const ms = s.last_ms - s.first_ms;
  return ms > 0 ? formatDuration(ms) : "";
}

// ---- entries in plain words

/** A piece of a sentence: the component styles subjects, people and ids differently, always as text. */
export interface Part {
  text: string;
  kind: "plain" | "subject" | "who" | "mono";
}

const plain = (text: string): Part => ({ text, kind: "plain" });
const subj = (text: string): Part => ({ text: `“${text}”`, kind: "subject" });
const who = (text: string): Part => ({ text, kind: "who" });
const mono = (text: string): Part => ({ text, kind: "mono" });

/** The message an entry is about: its subject, else what is known about it. */
function message(e: MailboxEntry): Part[] {
  if (e.subject !== null && e.subject !== "") return [subj(e.subject)];
  if (e.message_ids.length === 1 && e.message_ids[0] !== undefined) return [plain("message "), mono(e.message_ids[0])];
  if (e.message_ids.length > 1) return [plain(plural(e.message_ids.length, "message", "messages"))];
  if (e.item_id) return [plain("an item this data does not describe")];
  return [plain("a message")];
}

function from(e: MailboxEntry): Part[] {
  return e.sender ? [plain(" from "), who(e.sender)] : [];
}

const isStart = (p: PaneTiming | null) => p?.marker === "start";

/**
 * One sentence for an entry: "Opened “Invoice 4471” from accounts@… in the reading pane". Operation,
 * folders, ids and durations are shown beside it by the component.
 */
export function describeEntry(e: MailboxEntry): Part[] {
  const op = e.operation;
  if (e.search) {
    const t = e.search;
    const typed = t.keystrokes.length > 1 || (t.keystrokes.length === 1 && t.keystrokes[0] !== t.query);
    if (typed) return [plain("Typed a search that became "), subj(t.query)];
    return [plain("Searched for "), subj(t.query)];
  }
  switch (e.action) {
    case "logon":
      if (op === "Logon") return [plain("Outlook on the web session started")];
      if (op === "ServerLogon") return [plain("Signed in to the mailbox server")];
      return [plain("Signed in")];
    case "logon-failed":
      return [plain("Sign-in failed")];
    case "read":
      if (e.pane) {
        const where = /^Inspector/.test(op) ? " in its own window" : " in the reading pane";
        return isStart(e.pane)
          ? [plain("Opened "), ...message(e), ...from(e), plain(where)]
          : [plain("Closed "), ...message(e), plain(where)];
      }
      if (e.subject === null && e.message_ids.length > 0) {
        return [plain("Accessed "), ...message(e), ...(e.detail ? [plain(` (${e.detail})`)] : [])];
      }
      return [plain("Read "), ...message(e), ...from(e)];
    case "sync":
      return [plain("Synced "), ...message(e)];
    case "search":
      return e.subject ? [plain("Searched for "), subj(e.subject)] : [plain("Searched the mailbox")];
    case "send":
      return [plain("Sent "), ...message(e)];
    case "reply":
      return [plain("Replied to "), ...message(e), ...from(e)];
    case "forward":
      return [plain("Forwarded "), ...message(e), ...from(e)];
    case "delete":
      return [plain("Deleted "), ...message(e), ...from(e)];
    case "move": {
      const [a, b] = e.folders;
      const where: Part[] = a && b ? [plain(" from "), who(a), plain(" to "), who(b)] : b || a ? [plain(" to "), who((b ?? a) as string)] : [];
      return [plain("Moved "), ...message(e), ...where];
    }
    case "attachment":
      return [plain("Opened an attachment of "), ...message(e), ...from(e)];
    case "delivery":
      return [plain("Received "), ...message(e), ...from(e)];
    case "rule":
      return [plain("Created or changed an inbox rule")];
    case "forwarding":
      return [plain("Changed the mailbox's forwarding")];
    case "permission":
      return [plain("Changed mailbox permissions")];
    case "consent":
      return [plain("Consented to an application")];
    default:
      return e.subject ? [plain(`${op} `), ...message(e)] : [plain(op)];
  }
}

/** Whole sentence as one string (tests, titles). */
export function sentenceText(parts: Part[]): string {
  return parts.map((p) => p.text).join("");
}

/** What the reading-pane timing says, or null when the entry has none. */
export interface PaneInfo {
  /** "read for 45 s", "closed after 45 s", "no end recorded", "no start recorded". */
  text: string;
  /** Paired: the duration; unpaired: null. */
  ms: number | null;
  /** Shown as a bar on the start entry only. */
  bar: boolean;
  unpaired: boolean;
}

export function paneInfo(p: PaneTiming | null): PaneInfo | null {
  if (!p) return null;
  const start = p.marker === "start";
  if (p.paired_id === null || p.duration_ms === null) {
    return {
      text: start ? "no end recorded: how long it stayed open is unknown" : "no start recorded: when it was opened is unknown",
      ms: null,
      bar: false,
      unpaired: true,
    };
  }
  const d = formatDuration(p.duration_ms);
  return { text: start ? `read for ${d}` : `closed after ${d}`, ms: p.duration_ms, bar: start, unpaired: false };
}

/** Bar width in % for a reading duration: linear up to 5 minutes, full beyond. */
export function durationPercent(ms: number, fullMs = 5 * 60_000): number {
  if (!(ms > 0)) return 0;
  return Math.max(2, Math.min(100, Math.round((ms / fullMs) * 100)));
}

/** The keystrokes as typed: "i → in → inv → invoice" (the engine's text, else built from the steps). */
export function progressionText(keystrokes: string[], progression?: string): string {
  if (progression) return progression;
  return keystrokes.join(" → ");
}

// ---- reports

export const REPORT_KINDS: ReadonlyArray<{ kind: ReportKind; label: string; about: string }> = [
  { kind: "logons", label: "Logons", about: "Sign-ins (ServerLogon and Outlook on the web Logon), with IP, app type and client." },
  { kind: "reads-by-time", label: "Reads by time", about: "Every reading-pane start and end, in time order, with the message's subject and sender." },
  { kind: "reads-by-item", label: "Reads by item", about: "The same reads grouped by message (ActivityItemId)." },
  { kind: "searches", label: "Searches", about: "Search queries and the partial text typed into the search box, keystroke by keystroke." },
  { kind: "attachments", label: "Attachments", about: "Attachments opened or previewed, with the message they belong to." },
];

/** Rows of the reads-by-item report under their item headings, in order of first appearance. */
export function groupReportRows(rows: ReportRow[]): Array<{ group: string | null; rows: ReportRow[] }> {
  const out: Array<{ group: string | null; rows: ReportRow[] }> = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    if (last && last.group === r.group) last.rows.push(r);
    else out.push({ group: r.group, rows: [r] });
  }
  return out;
}

/** A file name for a report export: `adele.vance@contoso.example-reads-by-time.csv`. */
export function reportFileName(mailbox: string, kind: ReportKind): string {
  const base = mailbox.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, "_").trim() || "mailbox";
  return `${base}-${kind}.csv`;
}

/** Mailbox suggestions: values that look like addresses, most events first, matching what is typed. */
export function suggestMailboxes(values: Array<{ value: string; count: number }>, typed: string, max = 8): Array<{ value: string; count: number }> {
  const t = typed.trim().toLowerCase();
  const merged = new Map<string, { value: string; count: number }>();
  for (const v of values) {
    if (!v.value.includes("@")) continue;
    const key = v.value.toLowerCase();
    const have = merged.get(key);
    if (have) have.count = Math.max(have.count, v.count);
    else merged.set(key, { value: v.value, count: v.count });
  }
  return [...merged.values()]
    .filter((v) => t === "" || v.value.toLowerCase().includes(t))
    .sort((a, b) => {
      const pa = t !== "" && a.value.toLowerCase().startsWith(t) ? 0 : 1;
      const pb = t !== "" && b.value.toLowerCase().startsWith(t) ? 0 : 1;
      return pa - pb || b.count - a.count || a.value.localeCompare(b.value);
    })
    .slice(0, max);
}
