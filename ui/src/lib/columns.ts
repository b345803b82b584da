import type { EventRow } from "./bindings";
import { formatTimeMs, formatIso, formatEndpoint } from "./format";

export type ColumnKey = "time" | "action" | "operation" | "actor" | "mailbox" | "ip" | "client" | "subject" | "folder" | "source";

export interface Column {
  key: ColumnKey;
  label: string;
  width: number;
  mono?: boolean;
  grow?: boolean;
}

export const COLUMNS: readonly Column[] = [
  { key: "time", label: "Time (UTC)", width: 196 },
  { key: "action", label: "Action", width: 108 },
  { key: "operation", label: "Operation", width: 156 },
  { key: "actor", label: "Actor", width: 184 },
  { key: "mailbox", label: "Mailbox", width: 184 },
  { key: "ip", label: "IP", width: 124, mono: true },
  { key: "client", label: "Client", width: 136 },
  { key: "subject", label: "Subject", width: 240, grow: true },
  { key: "folder", label: "Folder", width: 120 },
  { key: "source", label: "Source", width: 72 },
];

/** Fixed widths; Subject takes whatever room is left. */
export const GRID_TEMPLATE = COLUMNS.map((c) => (c.grow ? `minmax(${c.width}px, 1fr)` : `${c.width}px`)).join(" ");
export const TABLE_WIDTH = COLUMNS.reduce((s, c) => s + c.width, 0);

/** Plain text of one cell (always text; never HTML). */
export function cellText(row: EventRow, key: ColumnKey): string {
  switch (key) {
    case "time":
      return Number.isFinite(row.time_ms) ? formatTimeMs(row.time_ms) : formatIso(row.time);
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
    case "client":
      return row.client_app ?? row.user_agent ?? "";
    case "subject":
      return row.subject ?? "";
    case "folder":
      return row.folders ?? "";
    case "source":
      return row.source;
  }
}

/** Tooltip text: the full value, with the port for IPs and the user agent for clients. */
export function cellTitle(row: EventRow, key: ColumnKey): string {
  if (key === "ip") return formatEndpoint(row.client_ip, row.client_port);
  if (key === "client") return [row.client_app, row.user_agent].filter((v) => v).join("\n");
  if (key === "action") return `${row.action} (${row.operation})`;
  return cellText(row, key);
}
