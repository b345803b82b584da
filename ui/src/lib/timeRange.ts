// The histogram's time range lives in the query text as after:/before: (UTC), so the investigator sees
// it, can edit it, and a saved search keeps it. These helpers swap those terms without touching the rest.

/** Splits a query into terms, keeping quoted phrases (and field:"quoted values") whole. */
export function splitTerms(query: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < query.length) {
    if (/\s/.test(query[i]!)) {
      i++;
      continue;
    }
    let tok = "";
    while (i < query.length && !/\s/.test(query[i]!)) {
      if (query[i] === '"') {
        const end = query.indexOf('"', i + 1);
        const stop = end < 0 ? query.length : end + 1;
        tok += query.slice(i, stop);
        i = stop;
      } else tok += query[i++];
    }
    out.push(tok);
  }
  return out;
}

const BOUND = /^(after|before):/i;

/** The query without its after:/before: terms. */
export function withoutTimeRange(query: string): string {
  return splitTerms(query)
    .filter((t) => !BOUND.test(t))
    .join(" ");
}

/** Whether the query has an after: or before: term. */
export function hasTimeRange(query: string): boolean {
  return splitTerms(query).some((t) => BOUND.test(t));
}

/** A UTC bound the engine reads: minutes when whole (`2025-12-01T08:00`), else full ISO with ms and Z. */
export function boundText(ms: number): string {
  const iso = new Date(ms).toISOString();
  if (ms % 60_000 === 0) return iso.slice(0, 16);
  return iso;
}

/** The query with its time range replaced by start..end (Unix ms, both inclusive). */
export function withTimeRange(query: string, startMs: number, endMs: number): string {
  const rest = withoutTimeRange(query);
  const range = `after:${boundText(startMs)} before:${boundText(endMs)}`;
  return rest === "" ? range : `${rest} ${range}`;
}
