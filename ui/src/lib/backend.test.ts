import { describe, expect, it } from "vitest";
import { toErrorBody } from "./backend";
import { actionCategory, actionLabel } from "./actions";
import { cellText, cellTitle, newForUserText } from "./columns";
import type { EventRow } from "./bindings";

describe("toErrorBody", () => {
  it("passes ErrorBody through", () => {
    expect(toErrorBody({ code: "case.newer_schema", message: "newer", detail: "v9" })).toEqual({
      code: "case.newer_schema",
      message: "newer",
      detail: "v9",
    });
  });
  it("keeps import.cancelled, so a stop is told apart from a failure", () => {
    expect(toErrorBody({ code: "import.cancelled", message: "The import was stopped.", detail: null }).code).toBe("import.cancelled");
  });
  it("maps unknown codes to internal but keeps the message", () => {
    expect(toErrorBody({ code: "weird", message: "m", detail: null })).toEqual({ code: "internal", message: "m", detail: null });
  });
  it("wraps strings and errors", () => {
    expect(toErrorBody("plain")).toMatchObject({ code: "internal", detail: "plain" });
    expect(toErrorBody(new Error("x"))).toMatchObject({ code: "internal", detail: "x" });
  });
});

describe("actions and cells", () => {
  it("categorises actions, unknown ones as other", () => {
    expect(actionCategory("logon-failed")).toBe("logon-failed");
    expect(actionCategory("Rule")).toBe("rule");
    expect(actionCategory("teleport")).toBe("other");
    expect(actionLabel("teleport")).toBe("teleport");
    expect(actionLabel("")).toBe("other");
  });
  it("renders cells as plain text", () => {
    const r: EventRow = {
      id: "18446744073709551615",
      time: "2025-12-03T07:31:34.123Z",
      time_ms: Date.UTC(2025, 11, 3, 7, 31, 34, 123),
      source: "ual",
      workload: "Exchange",
      record_type: "ExchangeItem",
      operation: "Send",
      action: "send",
      actor: "a@b.example",
      mailbox: null,
      client_ip: "2001:db8::1",
      client_port: 443,
      client_app: null,
      user_agent: "Mozilla/5.0",
      app_id: null,
      session_id: null,
      result: null,
      subject: "<img src=x onerror=alert(1)>",
      folders: null,
      item_count: null,
      object: null,
      ip: null,
      new: [],
      app_name: null,
      app_note: null,
    };
    expect(cellText(r, "time")).toBe("2025-12-03 07:31:34.123");
    expect(cellText(r, "subject")).toBe("<img src=x onerror=alert(1)>");
    expect(cellText(r, "client")).toBe("Mozilla/5.0");
    expect(cellText(r, "mailbox")).toBe("");
    expect(cellTitle(r, "ip")).toBe("[2001:db8::1]:443");
  });
});

describe("network cells", () => {
  const base = (ip: EventRow["ip"]): EventRow =>
    ({ id: "1", time: "2025-03-01T00:00:00.000Z", time_ms: 0, source: "s", workload: null, record_type: null, operation: "op", action: "read", actor: null, mailbox: null, client_ip: "x", client_port: null, client_app: null, user_agent: null, app_id: null, session_id: null, result: null, subject: null, folders: null, item_count: null, object: null, ip }) as EventRow;

  it("say country, network and the kind of network where it matters", () => {
    expect(cellText(base({ country: "NL", asn: 14061, class: "hosting", network: "DigitalOcean, LLC" }), "network")).toBe("NL · DigitalOcean, LLC · hosting");
    expect(cellText(base({ country: "US", asn: 15169, class: "public", network: "Google LLC" }), "network")).toBe("US · Google LLC");
    expect(cellText(base({ country: "IE", asn: 8075, class: "microsoft", network: "Microsoft Corporation" }), "network")).toBe("IE · Microsoft Corporation");
    expect(cellText(base({ country: null, asn: 64512, class: "vpn", network: null }), "network")).toBe("?? · AS64512 · VPN");
    expect(cellText(base({ country: null, asn: null, class: "private", network: null }), "network")).toBe("Private network");
    expect(cellText(base({ country: null, asn: null, class: "reserved", network: null }), "network")).toBe("Reserved address");
    expect(cellText(base(null), "network")).toBe("");
    const fresh = { ...base({ country: "NL", asn: 14061, class: "hosting", network: "DigitalOcean, LLC" }), actor: "adele@contoso.example", new: ["network", "ip", "app"] };
    expect(cellText(fresh, "network")).toBe("NL · DigitalOcean, LLC · hosting · new for user");
    expect(newForUserText(fresh)).toBe("First time adele@contoso.example used this network, this IP address and this app in this case (after at least a day of its activity here)");
    expect(newForUserText(base(null))).toBe("");
    expect(cellTitle(base({ country: "NL", asn: 14061, class: "hosting", network: "DigitalOcean, LLC" }), "network")).toBe("NL · DigitalOcean, LLC · hosting\nAS14061\nclass: hosting");
  });
});
