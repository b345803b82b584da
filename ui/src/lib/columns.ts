import type { EventRow } from "./bindings";
import { formatTimeCell, formatIso, formatEndpoint } from "./format";

export type ColumnKey =
  | "time"
  | "action"
  | "operation"
  | "actor"
  | "mailbox"
  | "ip"
  | "network"
  | "client"
  | "agent"
  | "app"
  | "subject"
  | "folder"
  | "items"
  | "object"
  | "session"
  | "result"
  | "workload"
  | "recordType"
  | "source";

export interface Column {
  key: ColumnKey;
  label: string;
  width: number;
  mono?: boolean;
  grow?: boolean;
  /** What the column shows, for the column chooser. */
  hint?: string;
}

/** Every column the timeline can show, in display order. */
export const ALL_COLUMNS: readonly Column[] = [
  { key: "time", label: "Time", width: 196 },
  { key: "action", label: "Action", width: 108 },
  { key: "operation", label: "Operation", width: 156 },
  { key: "actor", label: "Actor", width: 184, hint: "Who did it" },
  { key: "mailbox", label: "Mailbox", width: 184, hint: "Whose mailbox" },
  { key: "ip", label: "IP", width: 124, mono: true },
  { key: "network", label: "Network", width: 170, hint: "Country and network of the IP (offline IP data)" },
  { key: "client", label: "Client", width: 136, hint: "Client app, else user agent" },
  { key: "agent", label: "User agent", width: 220 },
  { key: "app", label: "App", width: 150, hint: "Application: its name when Tidemark knows the id" },
  { key: "subject", label: "Subject", width: 240, grow: true },
  { key: "folder", label: "Folder", width: 120 },
  { key: "items", label: "Items", width: 64 },
  { key: "object", label: "Object", width: 180 },
  { key: "session", label: "Session", width: 150, mono: true },
  { key: "result", label: "Result", width: 92 },
  { key: "workload", label: "Workload", width: 100 },
  { key: "recordType", label: "Record type", width: 130 },
  { key: "source", label: "Source", width: 72, hint: "Where the record came from" },
];

export const DEFAULT_COLUMNS: readonly ColumnKey[] = ["time", "action", "operation", "actor", "mailbox", "ip", "network", "client", "subject", "source"];

/** The default columns (kept for callers that do not choose). */
export const COLUMNS: readonly Column[] = ALL_COLUMNS.filter((c) => DEFAULT_COLUMNS.includes(c.key));

const BY_KEY = new Map(ALL_COLUMNS.map((c) => [c.key, c]));

export function isColumnKey(k: unknown): k is ColumnKey {
  return typeof k === "string" && BY_KEY.has(k as ColumnKey);
}

/** The columns for these keys, in display order; time is always there (it is what the list is sorted by). */
export function columnsFor(keys: readonly ColumnKey[]): Column[] {
  const set = new Set<ColumnKey>(keys);
  set.add("time");
  const cols = ALL_COLUMNS.filter((c) => set.has(c.key));
  // Something must take the spare width: the subject if shown, else the last column.
  if (!cols.some((c) => c.grow) && cols.length > 0) cols[cols.length - 1] = { ...cols[cols.length - 1]!, grow: true };
  return cols;
}

/** Fixed widths; the growing column takes whatever room is left. `timeWidth` widens time for zone offsets. */
export function gridTemplate(cols: readonly Column[], timeWidth?: number): string {
  return cols.map((c) => {
    const w = c.key === "time" && timeWidth ? timeWidth : c.width;
    return c.grow ? `minmax(${w}px, 1fr)` : `${w}px`;
  }).join(" ");
}

export function tableWidth(cols: readonly Column[], timeWidth?: number): number {
  return cols.reduce((s, c) => s + (c.key === "time" && timeWidth ? timeWidth : c.width), 0);
}

export const GRID_TEMPLATE = gridTemplate(COLUMNS);
export const TABLE_WIDTH = tableWidth(COLUMNS);

/** Plain text of one cell (always text; never HTML). Times are in the display zone. */
export function cellText(row: EventRow, key: ColumnKey): string {
  switch (key) {
    case "time":
      return Number.isFinite(row.time_ms) ? formatTimeCell(row.time_ms) : formatIso(row.time);
    case "action":
      return row.action;
    case "operation":
      return row.operation;
    case "actor":
      return row.actor ?? "";
    case "mailbox":
      return row.mailbox ?? "";
    case "ip":
      return row.client_ip ?? "";
    case "network":
      return networkText(row);
    case "client":
      return row.client_app ?? row.user_agent ?? "";
    case "agent":
      return row.user_agent ?? "";
    case "app":
      return row.app_name ?? row.app_id ?? "";
    case "subject":
      return row.subject ?? "";
    case "folder":
      return row.folders ?? "";
    case "items":
      return row.item_count === null || row.item_count === undefined ? "" : String(row.item_count);
    case "object":
      return row.object ?? "";
    case "session":
      return row.session_id ?? "";
    case "result":
      return row.result ?? "";
    case "workload":
      return row.workload ?? "";
    case "recordType":
      return row.record_type ?? "";
    case "source":
      return row.source;
  }
}

/** Classes worth a word beside the network: where a person rarely sits, or not a place at all. */
const CLASS_WORDS: Record<string, string> = {
  hosting: "hosting",
  vpn: "VPN",
  microsoft: "Microsoft",
};

/** "NL · DigitalOcean, LLC · hosting": country and network of the row's IP, from the offline data. */
export function networkText(row: EventRow): string {
  const ip = row.ip;
  if (!ip) return "";
  if (ip.class === "private") return "Private network";
  if (ip.class === "reserved") return "Reserved address";
  if (ip.class === "not-an-address") return "";
  const parts = [ip.country ?? "??", ip.network ?? (ip.asn !== null ? `AS${ip.asn}` : "unknown network")];
  const word = CLASS_WORDS[ip.class];
  if (word && !(word === "Microsoft" && (ip.network ?? "").includes("Microsoft"))) parts.push(word);
  if ((row.new ?? []).some((k) => k === "network" || k === "country")) parts.push("new for user");
  return parts.join(" · ");
}

const NEW_WORDS: Record<string, string> = {
  country: "this country",
  network: "this network",
  ip: "this IP address",
  client: "this client",
  agent: "this user agent",
  app: "this app",
};

/** "First time from this network and this app for this account in the case", or "" when nothing was new. */
export function newForUserText(row: EventRow): string {
  const kinds = (row.new ?? []).map((k) => NEW_WORDS[k] ?? k);
  if (kinds.length === 0) return "";
  const list = kinds.length === 1 ? kinds[0] : `${kinds.slice(0, -1).join(", ")} and ${kinds[kinds.length - 1]}`;
  return `First time ${row.actor ? `${row.actor} used ` : "this account used "}${list} in this case (after at least a day of its activity here)`;
}

/** Tooltip text: the full value, with the port for IPs and the user agent for clients. */
export function cellTitle(row: EventRow, key: ColumnKey): string {
  if (key === "network" && row.ip) {
    const ip = row.ip;
    return [networkText(row), ip.asn !== null ? `AS${ip.asn}` : "", `class: ${ip.class}`, newForUserText(row)].filter((v) => v).join("\n");
  }
  if (key === "ip") return formatEndpoint(row.client_ip, row.client_port);
  if (key === "client") return [row.client_app, row.user_agent].filter((v) => v).join("\n");
  if (key === "app") return [row.app_name, row.app_id, row.app_note].filter((v) => v).join("\n");
  if (key === "action") return `${row.action} (${row.operation})`;
  return cellText(row, key);
}
