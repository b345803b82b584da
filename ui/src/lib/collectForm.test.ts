import { describe, expect, it } from "vitest";
import type { MethodChoice } from "./collectBindings";
import {
  buildProfile,
  clientIdProblem,
  editedProfile,
  emptyForm,
  emptySourceOptions,
  formFromProfile,
  formProblems,
  formatRangeInput,
  hasProblems,
  mailboxesProblem,
  parseMailboxes,
  parseRangeInput,
  profileIdFor,
  rangeLength,
  rangeProblem,
  secretToSend,
  tenantProblem,
} from "./collectForm";

const METHODS: MethodChoice[] = [
  { id: "browser", name: "Browser", when: "You have an account.", delegated: true, secret_label: null },
  { id: "device-code", name: "Device code", when: "No browser here.", delegated: true, secret_label: null },
  { id: "client-secret", name: "App secret", when: "An admin gave you a secret.", delegated: false, secret_label: "Client secret" },
  { id: "certificate", name: "Certificate", when: "Unattended.", delegated: false, secret_label: "Certificate password (PFX)" },
];
const GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47";

describe("tenant and client id", () => {
  it("accepts a domain or a GUID", () => {
    expect(tenantProblem("contoso.onmicrosoft.com")).toBeNull();
    expect(tenantProblem(" contoso.com ")).toBeNull();
    expect(tenantProblem("sub.contoso.co.uk")).toBeNull();
    expect(tenantProblem(GUID)).toBeNull();
    expect(tenantProblem(GUID.toUpperCase())).toBeNull();
  });
  it("says what is wrong in the field's own words", () => {
    expect(tenantProblem("")).toMatch(/domain .* or its tenant ID/);
    expect(tenantProblem("https://login.microsoftonline.com/contoso.com")).toMatch(/not a web address/);
    expect(tenantProblem("admin@contoso.com")).toMatch(/part after the @ \(contoso\.com\)/);
    expect(tenantProblem("72f988bf-86f1-41af-91ab-2d7cd011db4")).toMatch(/character missing or extra/);
    expect(tenantProblem("contoso")).toMatch(/neither a domain/);
    expect(tenantProblem("-bad-.com")).not.toBeNull();
  });
  it("wants a GUID for the client id", () => {
    expect(clientIdProblem(GUID)).toBeNull();
    expect(clientIdProblem("")).toMatch(/Application \(client\) ID/);
    expect(clientIdProblem("my-app")).toMatch(/GUID of 36 characters/);
  });
});

describe("mailboxes", () => {
  it("splits on lines, commas, semicolons and spaces; removes duplicates", () => {
    expect(parseMailboxes("adele@contoso.com\n bob@contoso.com; ADELE@contoso.com,<eve@contoso.com>  ")).toEqual([
      "adele@contoso.com",
      "bob@contoso.com",
      "eve@contoso.com",
    ]);
    expect(parseMailboxes("  ")).toEqual([]);
  });
  it("requires at least one and real addresses", () => {
    expect(mailboxesProblem([])).toMatch(/one mailbox at a time/);
    expect(mailboxesProblem(["adele"])).toMatch(/“adele” is not a mailbox address/);
    expect(mailboxesProblem(["a", "b", "c", "d"])).toMatch(/^4 entries .*“a”, “b”, “c”, …/);
    expect(mailboxesProblem(["adele@contoso.com"])).toBeNull();
  });
});

describe("the whole form", () => {
  const good = { ...emptyForm(), tenant: "contoso.onmicrosoft.com", clientId: GUID };
  it("a browser sign-in needs no secret", () => {
    expect(formProblems(good, METHODS)).toEqual({});
  });
  it("a client secret is required unless one is kept", () => {
    const f = { ...good, method: "client-secret" as const };
    expect(formProblems(f, METHODS).secret).toMatch(/client secret's value/);
    expect(formProblems(f, METHODS, true)).toEqual({});
    expect(formProblems({ ...f, secret: "s3cr3t" }, METHODS)).toEqual({});
  });
  it("a certificate needs a PEM or PFX file; its password is optional", () => {
    const f = { ...good, method: "certificate" as const };
    expect(formProblems(f, METHODS).certPath).toMatch(/Choose the certificate file/);
    expect(formProblems({ ...f, certPath: "/keys/app.txt" }, METHODS).certPath).toMatch(/\.pem or \.pfx/);
    expect(formProblems({ ...f, certPath: "C:\\keys\\app.pfx" }, METHODS)).toEqual({});
  });
  it("needs a source, and mailboxes for the legacy source", () => {
    expect(formProblems({ ...good, sources: [] }, METHODS).sources).toMatch(/at least one/);
    const p = formProblems({ ...good, sources: ["graph", "activities"] }, METHODS);
    expect(p.mailboxes).toMatch(/one mailbox at a time/);
    expect(hasProblems(p)).toBe(true);
    expect(formProblems({ ...good, sources: ["activities"], mailboxesText: "adele@contoso.com" }, METHODS)).toEqual({});
  });
  it("builds the profile the engine stores", () => {
    const form = {
      ...good,
      tenant: " contoso.onmicrosoft.com ",
      clientId: GUID.toUpperCase(),
      method: "certificate" as const,
      certPath: " /keys/app.pem ",
      sources: ["activities" as const, "management" as const],
      mailboxesText: "adele@contoso.com bob@contoso.com",
      displayName: "",
    };
    expect(buildProfile(form, "contoso")).toEqual({
      id: "contoso",
      display_name: "contoso.onmicrosoft.com",
      cloud: "global",
      tenant: "contoso.onmicrosoft.com",
      client_id: GUID,
      sign_in: { method: "certificate", path: "/keys/app.pem", key_in_keychain: false, algorithm: "PS256" },
      sources: ["management", "activities"],
      options: {
        content_types: [],
        graph_version: null,
        users: [],
        operations: [],
        record_types: [],
        ip_addresses: [],
        keyword: null,
        window_hours: null,
        mailboxes: ["adele@contoso.com", "bob@contoso.com"],
      },
      origin: "manual",
    });
    expect(buildProfile({ ...good, displayName: " Contoso BEC " }, "x").display_name).toBe("Contoso BEC");
    expect(buildProfile({ ...good, mailboxesText: "adele@contoso.com" }, "x").options.mailboxes).toEqual([]);
  });
  it("sends a secret only for methods that have one, and only when typed", () => {
    expect(secretToSend({ ...good, secret: "x" }, METHODS)).toBeNull();
    expect(secretToSend({ ...good, method: "client-secret", secret: "" }, METHODS)).toBeNull();
    expect(secretToSend({ ...good, method: "client-secret", secret: "s" }, METHODS)).toBe("s");
  });
  it("edits a saved profile: the form shows it, and saving keeps what the form does not show", () => {
    const saved = {
      id: "contoso",
      display_name: "Contoso – BEC 2025",
      cloud: "gcc" as const,
      tenant: "contoso.onmicrosoft.com",
      client_id: GUID,
      sign_in: { method: "browser" as const, login_hint: "ir@contoso.com" },
      sources: ["graph" as const, "activities" as const],
      options: { ...emptySourceOptions(), mailboxes: ["adele@contoso.com"], window_hours: 6, graph_version: "v1.0" },
      endpoints: { login: "https://login.example", management: null, graph: null, outlook: null },
      origin: "onboarding-wizard",
    };
    const form = formFromProfile(saved);
    expect(form).toEqual({
      cloud: "gcc",
      tenant: "contoso.onmicrosoft.com",
      clientId: GUID,
      method: "browser",
      secret: "",
      certPath: "",
      sources: ["graph", "activities"],
      mailboxesText: "adele@contoso.com",
      displayName: "Contoso – BEC 2025",
    });
    expect(formProblems(form, METHODS)).toEqual({});
    // Unchanged, it saves back the same profile.
    expect(editedProfile(form, saved)).toEqual(saved);
    // A changed tenant and an added mailbox; the hint, window, Graph version, endpoints and origin stay.
    const edited = editedProfile({ ...form, tenant: "fabrikam.onmicrosoft.com", mailboxesText: "adele@contoso.com\nbob@contoso.com" }, saved);
    expect(edited).toEqual({ ...saved, tenant: "fabrikam.onmicrosoft.com", options: { ...saved.options, mailboxes: ["adele@contoso.com", "bob@contoso.com"] } });
    // Another method drops the browser's hint.
    expect(editedProfile({ ...form, method: "device-code" }, saved).sign_in).toEqual({ method: "device-code" });
    // A name that only repeats the tenant is left empty.
    expect(formFromProfile({ ...saved, display_name: "contoso.onmicrosoft.com" }).displayName).toBe("");
  });
  it("edits a certificate profile: an empty path keeps a key in the keychain, a new file replaces it", () => {
    const inKeychain = {
      ...buildProfile({ ...good, method: "certificate" }, "contoso"),
      sign_in: { method: "certificate" as const, key_in_keychain: true, algorithm: "RS256" },
    };
    const form = formFromProfile(inKeychain);
    expect(form.certPath).toBe("");
    expect(formProblems(form, METHODS, false, true)).toEqual({});
    expect(formProblems(form, METHODS).certPath).toMatch(/Choose the certificate file/);
    expect(editedProfile(form, inKeychain).sign_in).toEqual(inKeychain.sign_in);
    expect(editedProfile({ ...form, certPath: "/keys/new.pfx" }, inKeychain).sign_in).toEqual({
      method: "certificate",
      path: "/keys/new.pfx",
      key_in_keychain: false,
      algorithm: "RS256",
    });
  });
  it("makes ids the engine accepts, not already taken", () => {
    expect(profileIdFor("Contoso BEC – Müller", [])).toBe("contoso-bec-muller");
    expect(profileIdFor("contoso.onmicrosoft.com", ["contoso"])).toBe("contoso-2");
    expect(profileIdFor("contoso.onmicrosoft.com", ["contoso", "CONTOSO-2"])).toBe("contoso-3");
    expect(profileIdFor("☃", [])).toBe("tenant");
    expect(profileIdFor("a".repeat(100), [])).toHaveLength(40);
    expect(profileIdFor(GUID, [])).toMatch(/^[a-z0-9-]+$/);
  });
});

describe("time range in the display zone", () => {
  it("reads dates and times as wall clock in the zone", () => {
    expect(parseRangeInput("2025-12-01", "UTC")).toBe(Date.UTC(2025, 11, 1));
    expect(parseRangeInput("2025-12-01 08:05", "UTC")).toBe(Date.UTC(2025, 11, 1, 8, 5));
    expect(parseRangeInput("2025-12-01T08:05:09", "UTC")).toBe(Date.UTC(2025, 11, 1, 8, 5, 9));
    // New York is UTC-5 in December, UTC-4 in July.
    expect(parseRangeInput("2025-12-01 08:00", "America/New_York")).toBe(Date.UTC(2025, 11, 1, 13, 0));
    expect(parseRangeInput("2025-07-01 08:00", "America/New_York")).toBe(Date.UTC(2025, 6, 1, 12, 0));
    expect(parseRangeInput("2025-12-01 08:00", "Asia/Kolkata")).toBe(Date.UTC(2025, 11, 1, 2, 30));
  });
  it("round-trips what it shows", () => {
    for (const zone of ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]) {
      const ms = Date.UTC(2025, 9, 26, 0, 45);
      expect(parseRangeInput(formatRangeInput(ms, zone), zone)).toBe(ms);
    }
    expect(formatRangeInput(Date.UTC(2025, 11, 1, 13, 0), "America/New_York")).toBe("2025-12-01 08:00");
  });
  it("refuses what is not a time", () => {
    expect(parseRangeInput("yesterday", "UTC")).toBeNull();
    expect(parseRangeInput("2025-02-30", "UTC")).toBeNull();
    expect(parseRangeInput("2025-12-01 24:00", "UTC")).toBeNull();
    expect(parseRangeInput("12/01/2025", "UTC")).toBeNull();
  });
  it("checks the pair", () => {
    expect(rangeProblem("2025-12-01", "2025-12-02", "UTC")).toEqual({});
    expect(rangeProblem("", "2025-12-02", "UTC").from).toMatch(/Type when the collection should start/);
    expect(rangeProblem("x", "2025-12-02", "UTC").from).toMatch(/like 2025-12-01 08:00/);
    expect(rangeProblem("2025-12-02", "2025-12-01", "UTC").range).toMatch(/not after the start/);
  });
  it("says how long a range is", () => {
    expect(rangeLength(0, 7 * 86_400_000)).toBe("7 days");
    expect(rangeLength(0, 86_400_000 + 3_600_000 * 4)).toBe("1 day 4 h");
    expect(rangeLength(0, 90 * 60_000)).toBe("1 h 30 min");
    expect(rangeLength(5, 5)).toBe("");
  });
});

describe("daylight saving edges", () => {
  it("takes the first of a repeated hour and the later side of a skipped one", () => {
    // Berlin 2025-10-26 02:30 happens twice (00:30 and 01:30 UTC).
    expect(parseRangeInput("2025-10-26 02:30", "Europe/Berlin")).toBe(Date.UTC(2025, 9, 26, 0, 30));
    // New York 2025-03-09 02:30 does not exist; 03:30 EDT (07:30 UTC) is taken.
    expect(parseRangeInput("2025-03-09 02:30", "America/New_York")).toBe(Date.UTC(2025, 2, 9, 7, 30));
  });
});
