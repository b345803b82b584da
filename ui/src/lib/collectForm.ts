// The connect wizard's form and the collection screen's time range, as pure functions: what the
// investigator typed → the problems to show next to each field, and the Profile the engine stores.
// The engine checks the profile again (collect.profile_invalid); these checks only say it earlier
// and in the field's own words.

import type { Cloud, MethodChoice, Profile, SignIn, Source, SourceOptions } from "./collectBindings";
import { formatTimeMs } from "./format";

export type MethodId = MethodChoice["id"];

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Labels of letters, digits and hyphens (not at either end), at least two labels, a letter TLD.
const DOMAIN = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;
const MAILBOX = /^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/;

export function isGuid(s: string): boolean {
  return GUID.test(s.trim());
}

export function isDomain(s: string): boolean {
  return DOMAIN.test(s.trim());
}

/** What is wrong with a tenant (its domain or its GUID), or null. */
export function tenantProblem(text: string): string | null {
  const s = text.trim();
  if (s === "") return "Type the tenant's domain (for example contoso.onmicrosoft.com) or its tenant ID (a GUID).";
  if (/^[a-z]+:\/\//i.test(s) || s.includes("/"))
    return "Type only the domain (contoso.onmicrosoft.com) or the tenant ID, not a web address.";
  if (s.includes("@")) return `Type the part after the @ (${s.slice(s.lastIndexOf("@") + 1) || "contoso.com"}), not an email address.`;
  if (isGuid(s) || isDomain(s)) return null;
  if (/^[0-9a-f-]{20,}$/i.test(s)) return "This looks like a tenant ID with a character missing or extra. Copy it again from the Entra admin center (Overview → Tenant ID).";
  return "This is neither a domain (contoso.onmicrosoft.com) nor a tenant ID (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47).";
}

/** What is wrong with the app registration's client id, or null. */
export function clientIdProblem(text: string): string | null {
  const s = text.trim();
  if (s === "") return "Type the Application (client) ID of the app registration: a GUID shown on its Overview page in Entra.";
  if (isGuid(s)) return null;
  return "The client ID is a GUID of 36 characters, like 0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6. Copy it from the app registration's Overview page.";
}

/** Mailboxes typed one per line or separated by commas, semicolons or spaces; duplicates removed (case-insensitive). */
export function parseMailboxes(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const part of text.split(/[\s,;]+/)) {
    const m = part.trim().replace(/^<|>$/g, "");
    if (m === "" || seen.has(m.toLowerCase())) continue;
    seen.add(m.toLowerCase());
    out.push(m);
  }
  return out;
}

/** What is wrong with the mailbox list (needed for the legacy Activities source), or null. */
export function mailboxesProblem(list: string[]): string | null {
  if (list.length === 0) return "The legacy Outlook Activities API reads one mailbox at a time: type the mailboxes to read, for example adele@contoso.com.";
  const bad = list.filter((m) => !MAILBOX.test(m));
  if (bad.length === 1) return `“${bad[0]}” is not a mailbox address. Type addresses like adele@contoso.com.`;
  if (bad.length > 1) return `${bad.length} entries are not mailbox addresses (${bad.slice(0, 3).map((b) => `“${b}”`).join(", ")}${bad.length > 3 ? ", …" : ""}). Type addresses like adele@contoso.com.`;
  return null;
}

/** What the investigator typed in the wizard for a real tenant. */
export interface ConnectForm {
  cloud: Cloud;
  tenant: string;
  clientId: string;
  method: MethodId;
  /** Client secret or PFX password; never prefilled. */
  secret: string;
  /** Certificate file (PEM or PFX) for the certificate method. */
  certPath: string;
  sources: Source[];
  mailboxesText: string;
  displayName: string;
}

export type FieldName = "tenant" | "clientId" | "method" | "secret" | "certPath" | "sources" | "mailboxes" | "displayName";
export type FormProblems = Partial<Record<FieldName, string>>;

export function emptyForm(): ConnectForm {
  return { cloud: "global", tenant: "", clientId: "", method: "browser", secret: "", certPath: "", sources: ["graph"], mailboxesText: "", displayName: "" };
}

/**
 * Problems per field. `keptSecret`: a secret for this profile is already in the keychain (editing a
 * saved profile), so an empty field keeps it. `keptKey`: the certificate's private key is in the
 * keychain (made by the onboarding), so no file is needed.
 */
export function formProblems(form: ConnectForm, methods: MethodChoice[], keptSecret = false, keptKey = false): FormProblems {
  const p: FormProblems = {};
  const t = tenantProblem(form.tenant);
  if (t) p.tenant = t;
  const c = clientIdProblem(form.clientId);
  if (c) p.clientId = c;
  const m = methods.find((x) => x.id === form.method);
  if (!m) p.method = "Choose how Tidemark signs in.";
  if (form.method === "client-secret" && form.secret === "" && !keptSecret)
    p.secret = "Paste the client secret's value (not its ID) from Certificates & secrets in the app registration.";
  if (form.method === "certificate") {
    const path = form.certPath.trim();
    if (path === "") {
      if (!keptKey) p.certPath = "Choose the certificate file (.pem with its private key, or .pfx).";
    }
    else if (!/\.(pem|pfx|p12|crt|key)$/i.test(path)) p.certPath = "Choose a .pem or .pfx file that holds the certificate and its private key.";
  }
  if (form.sources.length === 0) p.sources = "Tick at least one place to collect from.";
  if (form.sources.includes("activities")) {
    const mb = mailboxesProblem(parseMailboxes(form.mailboxesText));
    if (mb) p.mailboxes = mb;
  }
  if (form.displayName.trim().length > 80) p.displayName = "Use a shorter name (80 characters at most).";
  return p;
}

export function hasProblems(p: FormProblems): boolean {
  return Object.keys(p).length > 0;
}

/**
 * A profile id the engine accepts (letters, digits, '-', '_'), from the name, not already taken:
 * "Contoso BEC" → "contoso-bec", then "contoso-bec-2".
 */
export function profileIdFor(name: string, taken: Iterable<string>): string {
  const used = new Set([...taken].map((x) => x.toLowerCase()));
  let base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/\.onmicrosoft\.(com|us|cn)$/, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  if (base === "") base = "tenant";
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) {
    const id = `${base}-${i}`;
    if (!used.has(id)) return id;
  }
}

function signInOf(form: ConnectForm): SignIn {
  switch (form.method) {
    case "browser":
      return { method: "browser" };
    case "device-code":
      return { method: "device-code" };
    case "client-secret":
      return { method: "client-secret" };
    case "certificate":
      return { method: "certificate", path: form.certPath.trim(), key_in_keychain: false, algorithm: "PS256" };
  }
}

export function emptySourceOptions(): SourceOptions {
  return { content_types: [], graph_version: null, users: [], operations: [], record_types: [], ip_addresses: [], keyword: null, window_hours: null, mailboxes: [] };
}

/** The Profile to save; sources keep the order the engine lists them in (`order`). */
export function buildProfile(
  form: ConnectForm,
  id: string,
  order: Source[] = ["management", "graph", "activities", "entra-signins", "entra-audits"],
): Profile {
  const sources = order.filter((s) => form.sources.includes(s));
  const mailboxes = sources.includes("activities") ? parseMailboxes(form.mailboxesText) : [];
  return {
    id,
    display_name: form.displayName.trim() || form.tenant.trim(),
    cloud: form.cloud,
    tenant: form.tenant.trim(),
    client_id: form.clientId.trim().toLowerCase(),
    sign_in: signInOf(form),
    sources,
    options: { ...emptySourceOptions(), mailboxes },
    origin: "manual",
  };
}

/** The form for editing a saved profile: what it holds, with the secret field empty (never shown again). */
export function formFromProfile(p: Profile): ConnectForm {
  const name = p.display_name.trim();
  return {
    cloud: p.cloud,
    tenant: p.tenant,
    clientId: p.client_id,
    method: p.sign_in.method,
    secret: "",
    certPath: p.sign_in.method === "certificate" ? (p.sign_in.path ?? "") : "",
    sources: [...p.sources],
    mailboxesText: p.options.mailboxes.join("\n"),
    // A name that only repeats the tenant stays empty, so it follows a corrected tenant.
    displayName: name === p.tenant.trim() ? "" : name,
  };
}

/**
 * A saved profile after an edit: the form's fields over `base`, keeping what the form does not show
 * (its endpoints, origin and other source options, a browser sign-in's account hint, a certificate's
 * signing algorithm and a private key kept in the keychain).
 */
export function editedProfile(form: ConnectForm, base: Profile, order?: Source[]): Profile {
  const built = buildProfile(form, base.id, order);
  let sign_in: SignIn = built.sign_in;
  if (base.sign_in.method === "browser" && built.sign_in.method === "browser") sign_in = base.sign_in;
  if (base.sign_in.method === "certificate" && built.sign_in.method === "certificate") {
    const path = form.certPath.trim();
    sign_in = path === "" ? base.sign_in : { ...base.sign_in, path, key_in_keychain: path === base.sign_in.path ? base.sign_in.key_in_keychain : false };
  }
  return { ...base, ...built, sign_in, options: { ...base.options, mailboxes: built.options.mailboxes }, origin: base.origin };
}

/** The secret to send with profile_save: null keeps what the keychain has (or needs none). */
export function secretToSend(form: ConnectForm, methods: MethodChoice[]): string | null {
  const m = methods.find((x) => x.id === form.method);
  if (!m || m.secret_label === null) return null;
  return form.secret === "" ? null : form.secret;
}

// ---- the collection screen's time range, typed in the display time zone

/** A moment as the time fields show it: "2025-12-01 08:00" in `zone`. */
export function formatRangeInput(ms: number, zone: string): string {
  return formatTimeMs(ms, "minute", zone);
}

/**
 * Reads "2025-12-01", "2025-12-01 08:00", "2025-12-01T08:00:30" as a wall-clock time in `zone`;
 * null when it is not such a time. Inside a DST gap the later side is taken, in an overlap the first.
 */
export function parseRangeInput(text: string, zone: string): number | null {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return null; // 2025-02-30
  if (zone === "UTC") return wall;
  // Candidates from the zone's offset a day before and a day after; keep those that show this wall time.
  const offsetAt = (at: number): number | null => {
    const sm = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(formatTimeMs(at, "second", zone));
    if (!sm) return null;
    return Date.UTC(Number(sm[1]), Number(sm[2]) - 1, Number(sm[3]), Number(sm[4]), Number(sm[5]), Number(sm[6])) - at;
  };
  const before = offsetAt(wall - 86_400_000);
  const after = offsetAt(wall + 86_400_000);
  if (before === null || after === null) return wall;
  const candidates = [...new Set([wall - before, wall - after])].filter((c) => offsetAt(c) === wall - c).sort((x, y) => x - y);
  // In a DST gap no candidate shows the wall time: the offset from before the gap lands just after it.
  return candidates[0] ?? wall - before;
}

/** Problems with a typed range: each field, and the pair. */
export function rangeProblem(fromText: string, toText: string, zone: string): { from?: string; to?: string; range?: string } {
  const out: { from?: string; to?: string; range?: string } = {};
  const a = parseRangeInput(fromText, zone);
  const b = parseRangeInput(toText, zone);
  const how = "Write a date and time like 2025-12-01 08:00.";
  if (a === null) out.from = fromText.trim() === "" ? "Type when the collection should start. " + how : how;
  if (b === null) out.to = toText.trim() === "" ? "Type when the collection should end. " + how : how;
  if (a !== null && b !== null && b <= a) out.range = "The end is not after the start. Swap them or change one.";
  return out;
}

/** "2 days 4 h" for a range, for the line under the time fields. */
export function rangeLength(fromMs: number, toMs: number): string {
  const min = Math.round((toMs - fromMs) / 60_000);
  if (!(min > 0)) return "";
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  const m = min % 60;
  const parts: string[] = [];
  if (d > 0) parts.push(d === 1 ? "1 day" : `${d} days`);
  if (h > 0) parts.push(`${h} h`);
  if (m > 0 && d === 0) parts.push(`${m} min`);
  return parts.join(" ");
}
