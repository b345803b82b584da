import { describe, expect, it } from "vitest";
import { countsText, origins, sessionQuery } from "./accounts";
import type { AccountSession } from "./bindings";

const session = (over: Partial<AccountSession>): AccountSession => ({
  id: "1",
  kind: "session-id",
  session_id: null,
  first_time: "2025-03-04T03:00:00.000Z",
  last_time: "2025-03-04T03:40:00.000Z",
  ips: ["206.189.117.42"],
  countries: ["NL"],
  networks: ["DigitalOcean, LLC"],
  clients: ["Browser"],
  apps: [],
  events: 3,
  counts: [{ action: "read", count: 2 }, { action: "logon", count: 1 }],
  replayed: false,
  new_values: 0,
  ...over,
});

describe("accounts view", () => {
  it("shows a session in the timeline by its id, else by account, address and span", () => {
    expect(sessionQuery("adele@contoso.com", session({ session_id: "S-1" }))).toBe('session:"S-1"');
    expect(sessionQuery("adele@contoso.com", session({ kind: "ip-client" }))).toBe(
      'actor:"adele@contoso.com" ip:"206.189.117.42" after:2025-03-04T03:00:00.000Z before:2025-03-04T03:40:00.000Z',
    );
    expect(sessionQuery("adele@contoso.com", session({ kind: "ip-client", ips: [] }))).toBe(
      'actor:"adele@contoso.com" after:2025-03-04T03:00:00.000Z before:2025-03-04T03:40:00.000Z',
    );
  });

  it("sums where sessions came from, most events first, a replayed session counted for each network", () => {
    const o = origins([
      session({ events: 3 }),
      session({ events: 10, networks: ["British Telecommunications PLC"], countries: ["GB"] }),
      session({ events: 4, networks: ["DigitalOcean, LLC", "PacketHub S.A."], countries: ["NL", "GB"], replayed: true }),
      session({ events: 1, networks: [], countries: [] }),
    ]);
    expect(o.map((x) => [x.network, x.events, x.sessions, x.replayed])).toEqual([
      ["British Telecommunications PLC", 10, 1, 0],
      ["DigitalOcean, LLC", 7, 2, 1],
      ["PacketHub S.A.", 4, 1, 1],
      ["(no network: private, reserved or Microsoft addresses)", 1, 1, 0],
    ]);
    expect(o[1]!.countries).toEqual(["NL", "GB"]);
  });

  it("says what a session did", () => {
    expect(countsText(session({}))).toBe("2 read, 1 logon");
  });
});
