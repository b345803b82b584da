// The export dialog's logic: what the investigator picked → the engine's ExportRequest.

import type { ColumnProfile, ExportFormat, ExportPreset, ExportRequest, ExportScope } from "./bindings";

/** The HTML report is one self-contained page; above this many rows browsers struggle to open it. */
export const HTML_WARN_ROWS = 50_000;

export type ScopeChoice = { kind: "query" } | { kind: "selection" } | { kind: "bookmarked" } | { kind: "tagged"; tag: string };

export interface ScopeInputs {
  /** The query as typed (the one the timeline shows). */
  query: string;
  /** Ids of the selected events. */
  selection: readonly string[];
}

export function buildScope(choice: ScopeChoice, inputs: ScopeInputs): ExportScope {
  switch (choice.kind) {
    case "query":
      return { kind: "query", query: inputs.query };
    case "selection":
      return { kind: "selection", ids: [...inputs.selection] };
    case "bookmarked":
      return { kind: "bookmarked" };
    case "tagged":
      return { kind: "tagged", tag: choice.tag };
  }
}

export interface ScopeCounts {
  matching: number | null;
  selection: number;
  bookmarks: number | null;
  /** Events per tag name. */
  tags: ReadonlyMap<string, number>;
}

/** How many rows the export will have, when known. */
export function scopeRows(choice: ScopeChoice, counts: ScopeCounts): number | null {
  switch (choice.kind) {
    case "query":
      return counts.matching;
    case "selection":
      return counts.selection;
    case "bookmarked":
      return counts.bookmarks;
    case "tagged":
      return counts.tags.get(choice.tag) ?? null;
  }
}

export type ColumnChoice = { kind: "preset"; name: string } | { kind: "custom"; columns: readonly string[] };

/** `null` lets the engine take the format's default; a custom list must not be empty. */
export function buildColumns(choice: ColumnChoice | null): ColumnProfile | null {
  if (choice === null) return null;
  if (choice.kind === "preset") return { kind: "preset", name: choice.name };
  return { kind: "custom", columns: [...choice.columns] };
}

/** A preset's columns; the engine lists `full` (every column) as an empty list. */
export function presetColumns(preset: ExportPreset | undefined, all: readonly string[]): string[] {
  if (!preset) return [...all];
  return preset.columns.length === 0 ? [...all] : [...preset.columns];
}

/** `UTC`, `local` or an IANA name, as the engine reads it. */
export type ZoneChoice = { kind: "utc" } | { kind: "local" } | { kind: "iana"; name: string };

export function zoneValue(z: ZoneChoice): string {
  return z.kind === "utc" ? "UTC" : z.kind === "local" ? "local" : z.name.trim();
}

export interface ExportForm {
  scope: ScopeChoice;
  format: ExportFormat;
  columns: ColumnChoice | null;
  zone: ZoneChoice;
  path: string;
}

export function buildExportRequest(form: ExportForm, inputs: ScopeInputs): ExportRequest {
  return {
    scope: buildScope(form.scope, inputs),
    format: form.format,
    columns: buildColumns(form.columns),
    time_zone: zoneValue(form.zone),
    path: form.path,
  };
}

/** What is wrong with the form, in words; null when it can be sent. */
export function formProblem(form: Omit<ExportForm, "path">, inputs: ScopeInputs, validZones: ReadonlySet<string> | null): string | null {
  if (form.scope.kind === "selection" && inputs.selection.length === 0) return "No events are selected. Select events in the timeline, or choose another scope.";
  if (form.scope.kind === "tagged" && form.scope.tag.trim() === "") return "Choose the tag whose events to export.";
  if (form.columns?.kind === "custom" && form.columns.columns.length === 0) return "Choose at least one column.";
  if (form.zone.kind === "iana") {
    const name = form.zone.name.trim();
    if (name === "") return "Type or pick a time zone, such as Europe/Berlin.";
    if (validZones !== null && !validZones.has(name)) return `“${name}” is not a time zone name. Pick one from the list, such as Europe/Berlin.`;
  }
  return null;
}

export function needsHtmlWarning(format: ExportFormat, rows: number | null): boolean {
  return format === "html" && rows !== null && rows > HTML_WARN_ROWS;
}

/** Zones to offer: every IANA zone the browser knows (sorted), or a short list when it cannot say. */
export function ianaZones(supported?: () => string[]): string[] {
  let list: string[] = [];
  try {
    const f = supported ?? (() => (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? []);
    list = f();
  } catch {
    list = [];
  }
  if (list.length === 0) {
    list = ["Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York", "America/Chicago", "America/Los_Angeles", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney"];
  }
  return [...new Set(list.filter((z) => z !== "UTC"))].sort();
}

/** The machine's zone name, e.g. "America/New_York" (for the "Local" label). */
export function localZoneName(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

const EXT: Record<ExportFormat, string> = { csv: "csv", jsonl: "jsonl", xlsx: "xlsx", html: "html" };

/** "Contoso BEC – bookmarked – 2025-12-04" (the save dialog adds the extension). */
export function suggestedName(caseName: string, scope: ScopeChoice, nowMs: number): string {
  const what = scope.kind === "query" ? "events" : scope.kind === "selection" ? "selected" : scope.kind === "bookmarked" ? "bookmarked" : `tag ${scope.tag}`;
  const day = new Date(nowMs).toISOString().slice(0, 10);
  return `${caseName} – ${what} – ${day}`.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, " ").replace(/\s+/g, " ").trim();
}

export function extensionOf(format: ExportFormat): string {
  return EXT[format];
}

export const FORMAT_LABELS: Record<ExportFormat, { name: string; hint: string }> = {
  csv: { name: "CSV", hint: "Opens in Excel and any spreadsheet; formulas are neutralised." },
  jsonl: { name: "JSON Lines", hint: "One JSON object per event, for scripts and SIEMs." },
  xlsx: { name: "Excel (XLSX)", hint: "Real dates, filters; split into sheets above 1,048,576 rows." },
  html: { name: "HTML report", hint: "One self-contained page with the case's notes, to share and print." },
};

/** The folder part of a path ("/cases" for "/cases/x.tidemark", "C:\\Cases" for "C:\\Cases\\x.tidemark"); "" without one. */
export function folderOf(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (i < 0) return "";
  if (i === 0) return path[0] ?? "";
  // "C:\\x" → "C:\\" (a drive's root keeps its separator).
  if (i === 2 && path[1] === ":") return path.slice(0, 3);
  return path.slice(0, i);
}

/** `folder` + `name` with the folder's own separator. */
export function joinPath(folder: string, name: string): string {
  if (folder === "") return name;
  const sep = folder.includes("\\") && !folder.includes("/") ? "\\" : "/";
  return folder.endsWith(sep) ? `${folder}${name}` : `${folder}${sep}${name}`;
}

/**
 * Where an export goes unless the investigator says otherwise: beside the case file (exports belong
 * to the case), named after the case, the scope and the day.
 */
export function defaultDestination(casePath: string, caseName: string, scope: ScopeChoice, format: ExportFormat, nowMs: number): string {
  const folder = folderOf(casePath);
  if (folder === "") return "";
  return joinPath(folder, `${suggestedName(caseName, scope, nowMs)}.${extensionOf(format)}`);
}

/** A typed path whose extension is `from`'s gets `to`'s instead; other paths are left as typed. */
export function swapExtension(path: string, from: ExportFormat, to: ExportFormat): string {
  const old = `.${extensionOf(from)}`;
  if (from === to || !path.toLowerCase().endsWith(old)) return path;
  return `${path.slice(0, path.length - old.length)}.${extensionOf(to)}`;
}
