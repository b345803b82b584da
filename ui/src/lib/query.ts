// Building query text from clicks (facets, pivots, tags). The UI never builds SQL: it edits the text the
// investigator could have typed, and the engine's parser checks it. Values are quoted; the query
// language has no escape for a double quote inside a phrase, so one becomes a space (as the engine's
// own facet filters do).

/** Fields a click can filter on, as typed in the query bar. */
export type QueryField = "actor" | "mailbox" | "op" | "action" | "ip" | "app" | "session" | "msgid" | "folder" | "source" | "subject" | "workload" | "tag";

/** `field:"value"`; null when the value has nothing searchable (no letter or digit). */
export function fieldTerm(field: QueryField, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const v = value.replace(/"/g, " ").replace(/[\u0000-\u001f\u007f]/g, " ").trim();
  if (!/[\p{L}\p{N}]/u.test(v)) return null;
  return `${field}:"${v}"`;
}

interface Token {
  text: string;
}

/** Splits query text into terms the way the engine reads it: whitespace separates, quotes group. */
export function tokenize(query: string): string[] {
  const out: Token[] = [];
  let i = 0;
  const n = query.length;
  while (i < n) {
    if (/\s/.test(query.charAt(i))) {
      i++;
      continue;
    }
    let tok = "";
    while (i < n && !/\s/.test(query.charAt(i))) {
      if (query.charAt(i) === '"') {
        const end = query.indexOf('"', i + 1);
        if (end < 0) {
          tok += query.slice(i);
          i = n;
        } else {
          tok += query.slice(i, end + 1);
          i = end + 1;
        }
      } else {
        tok += query.charAt(i);
        i++;
      }
    }
    out.push({ text: tok });
  }
  return out.map((t) => t.text);
}

/** `actor:"a"` and `ACTOR:"a"` are the same term; field names are case-insensitive, values are not. */
function sameTerm(a: string, b: string): boolean {
  const ca = a.indexOf(":");
  const cb = b.indexOf(":");
  if (ca < 0 || cb < 0) return a === b;
  return a.slice(0, ca).toLowerCase() === b.slice(0, cb).toLowerCase() && a.slice(ca) === b.slice(cb);
}

function positive(term: string): string {
  return term.startsWith("-") ? term.slice(1) : term;
}

/** Removes every occurrence of `term` (included or excluded) with a dangling OR next to it. */
export function removeTerm(query: string, term: string): string {
  const base = positive(term);
  const toks = tokenize(query);
  const keep: string[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] ?? "";
    if (sameTerm(positive(t), base)) {
      // `x OR t` → drop the OR before; `t OR x` → drop the OR after.
      if (keep.length > 0 && keep[keep.length - 1] === "OR") keep.pop();
      else if (toks[i + 1] === "OR") i++;
      continue;
    }
    keep.push(t);
  }
  return keep.join(" ");
}

/**
 * Adds a filter term to the query (`exclude` puts `-` before it). A term already in the query, included
 * or excluded, is replaced, so clicking and then Alt-clicking a value flips it instead of contradicting it.
 */
export function addFilter(query: string, term: string, exclude: boolean): string {
  const wanted = exclude ? `-${positive(term)}` : positive(term);
  const toks = tokenize(query);
  if (toks.some((t) => sameTerm(t, wanted))) return toks.join(" ");
  const rest = removeTerm(query, term);
  return rest === "" ? wanted : `${rest} ${wanted}`;
}

/** Whether `term` is in the query; "include", "exclude" or null. */
export function filterState(query: string, term: string): "include" | "exclude" | null {
  const base = positive(term);
  for (const t of tokenize(query)) {
    if (sameTerm(t, base)) return "include";
    if (sameTerm(t, `-${base}`)) return "exclude";
  }
  return null;
}

export interface ActiveFilter {
  /** The term as it stands in the query (`-ip:"1.2.3.4"`). */
  term: string;
  negated: boolean;
  field: string;
  /** The value without quotes. */
  value: string;
}

/** The `field:value` terms of a query, for listing (free words and OR are left out). */
export function activeFilters(query: string): ActiveFilter[] {
  const out: ActiveFilter[] = [];
  for (const t of tokenize(query)) {
    const m = /^(-?)([A-Za-z]+):(.+)$/.exec(t);
    if (!m || m[3]?.startsWith("//")) continue;
    out.push({ term: t, negated: m[1] === "-", field: (m[2] ?? "").toLowerCase(), value: (m[3] ?? "").replace(/^"|"$/g, "") });
  }
  return out;
}

/** ISO 8601 UTC with milliseconds, which `after:`/`before:` read exactly. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** `after:… before:…` for ±`minutes` around a time. */
export function aroundQuery(timeMs: number, minutes: number): string {
  const m = Math.max(0, minutes) * 60_000;
  return `after:${isoMs(timeMs - m)} before:${isoMs(timeMs + m)}`;
}

/**
 * The query narrowed to the events listed before a moment in `sort` order: with `asc`, those up to the
 * millisecond before it; with `desc`, those from the millisecond after it. Its count is the position of
 * the moment's first event in the result. The engine keeps the last after:/before: of a query, so the
 * bound added here wins over one already in it (an event outside that range is not in the result
 * anyway, which the page at that position shows).
 */
export function earlierQuery(query: string, timeMs: number, sort: "asc" | "desc"): string {
  const bound = sort === "asc" ? `before:${isoMs(timeMs - 1)}` : `after:${isoMs(timeMs + 1)}`;
  const q = query.trim();
  return q === "" ? bound : `${q} ${bound}`;
}

export interface PivotSource {
  time_ms: number;
  actor: string | null;
  client_ip: string | null;
  session_id: string | null;
}

export interface Pivot {
  id: "session" | "ip" | "msgid" | "user" | "around";
  label: string;
  /** What the button shows as the value (already plain text). */
  value: string;
  query: string;
}

/** The pivots an event offers; those without a value are left out. */
export function pivots(ev: PivotSource, messageIds: readonly string[], minutes: number): Pivot[] {
  const out: Pivot[] = [];
  const add = (id: Pivot["id"], label: string, value: string | null, field: QueryField) => {
    const q = fieldTerm(field, value);
    if (q !== null && value !== null) out.push({ id, label, value, query: q });
  };
  add("session", "Same session", ev.session_id, "session");
  add("ip", "Same IP address", ev.client_ip, "ip");
  const ids = messageIds.map((m) => fieldTerm("msgid", m)).filter((q): q is string => q !== null);
  if (ids.length > 0) {
    out.push({
      id: "msgid",
      label: ids.length === 1 ? "Same message" : `Same messages (${ids.length})`,
      value: messageIds.join(" "),
      query: ids.join(" OR "),
    });
  }
  add("user", "Same user", ev.actor, "actor");
  if (Number.isFinite(ev.time_ms)) {
    out.push({ id: "around", label: `±${minutes} min around it`, value: "", query: aroundQuery(ev.time_ms, minutes) });
  }
  return out;
}
