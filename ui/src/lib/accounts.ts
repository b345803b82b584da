// The Accounts view's words and pivots, kept out of the component so they are tested on their own.

import type { AccountSession } from "./bindings";
import { fieldTerm, isoMs } from "./query";

/** The search that shows one session's events in the timeline. */
export function sessionQuery(account: string, s: AccountSession): string {
  const bySession = s.session_id ? fieldTerm("session", s.session_id) : null;
  if (bySession) return bySession;
  const parts = [fieldTerm("actor", account), s.ips.length > 0 ? fieldTerm("ip", s.ips[0]) : null];
  // The session's own span, to the millisecond, both ends included.
  parts.push(`after:${isoMs(Date.parse(s.first_time))}`, `before:${isoMs(Date.parse(s.last_time))}`);
  return parts.filter((p): p is string => p !== null).join(" ");
}

/** Where an account's sessions came from: events per network (owner and countries), most first. */
export interface Origin {
  network: string;
  countries: string[];
  events: number;
  sessions: number;
  replayed: number;
}

export function origins(sessions: readonly AccountSession[]): Origin[] {
  const by = new Map<string, Origin>();
  for (const s of sessions) {
    const nets = s.networks.length > 0 ? s.networks : ["(no network: private, reserved or Microsoft addresses)"];
    for (const n of nets) {
      const o = by.get(n) ?? { network: n, countries: [], events: 0, sessions: 0, replayed: 0 };
      // A session seen from several networks counts for each of them.
      o.events += s.events;
      o.sessions += 1;
      if (s.replayed) o.replayed += 1;
      for (const c of s.countries) if (!o.countries.includes(c)) o.countries.push(c);
      by.set(n, o);
    }
  }
  return [...by.values()].sort((a, b) => b.events - a.events || a.network.localeCompare(b.network));
}

/** "2 sign-in failures, 14 reads, 1 send" from a session's counts. */
export function countsText(s: AccountSession): string {
  return s.counts.map((c) => `${c.count.toLocaleString("en-US")} ${c.action}`).join(", ");
}
