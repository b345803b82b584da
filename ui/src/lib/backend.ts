// The only module that talks to Tauri. Everything goes through IPC (`invoke`), so tests mock it
// with `mockIPC` from @tauri-apps/api/mocks. Every command rejects with an ErrorBody; anything
// else that goes wrong (no Tauri at all, a plugin missing) is turned into one here.

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open, save } from "@tauri-apps/plugin-dialog";
import type {
  AppInfo,
  Bookmark,
  CaseSummary,
  ErrorBody,
  ErrorCode,
  EventAnnotations,
  EventDetail,
  IpCard,
  AccountSession,
  AccountSummary,
  ExportFormat,
  ExportOptions,
  ExportProgress,
  ExportRequest,
  ExportResult,
  Facets,
  Histogram,
  ImportProgress,
  ImportReport,
  Note,
  Page,
  SavedSearch,
  SearchCount,
  SortOrder,
  Tag,
  TagChange,
} from "./bindings";

// Every code the engine can send; the Record type makes the compiler list a new one here.
const CODES: Record<ErrorCode, true> = {
  "case.not_found": true,
  "case.not_a_case": true,
  "case.newer_schema": true,
  "case.exists": true,
  "case.none_open": true,
  "case.busy": true,
  "import.unreadable": true,
  "import.unknown_format": true,
  "import.cancelled": true,
  "query.invalid": true,
  "query.superseded": true,
  "event.not_found": true,
  "export.failed": true,
  "export.cancelled": true,
  "export.invalid": true,
  "tag.exists": true,
  "tag.not_found": true,
  "note.not_found": true,
  "saved_search.exists": true,
  "saved_search.not_found": true,
  "annotation.invalid": true,
  io: true,
  internal: true,
  "collect.keychain_unavailable": true,
  "collect.profile_invalid": true,
  "collect.sign_in_failed": true,
  "collect.sign_in_cancelled": true,
  "collect.sign_in_timeout": true,
  "collect.permission_missing": true,
  "collect.auditing_off": true,
  "collect.outside_retention": true,
  "collect.throttled": true,
  "collect.server_unavailable": true,
  "collect.network": true,
  "collect.bad_response": true,
  "collect.refused": true,
  "collect.activities_disabled": true,
  "collect.query_failed": true,
  "collect.cancelled": true,
  "collect.case": true,
  "collect.nothing_to_resume": true,
  "collect.busy": true,
};
const KNOWN_CODES: ReadonlySet<string> = new Set(Object.keys(CODES));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** Turns whatever a rejected promise carried into an ErrorBody the UI can show. */
export function toErrorBody(e: unknown): ErrorBody {
  if (isRecord(e) && typeof e.code === "string" && typeof e.message === "string") {
    return {
      code: (KNOWN_CODES.has(e.code) ? e.code : "internal") as ErrorCode,
      message: e.message,
      detail: typeof e.detail === "string" ? e.detail : e.detail == null ? null : JSON.stringify(e.detail),
    };
  }
  const text = e instanceof Error ? e.message : typeof e === "string" ? e : JSON.stringify(e);
  if (typeof window !== "undefined" && !("__TAURI_INTERNALS__" in window)) {
    return {
      code: "internal",
      message: "Tidemark's engine is not running. This page only works inside the Tidemark app.",
      detail: text,
    };
  }
  return { code: "internal", message: "Something went wrong inside Tidemark.", detail: text };
}

/** Invokes a command; any rejection becomes an ErrorBody. Other command modules (collect.ts) use it too. */
export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toErrorBody(e);
  }
}

export const appInfo = (): Promise<AppInfo> => call("app_info");
export const caseCreate = (path: string, name: string): Promise<CaseSummary> => call("case_create", { path, name });
export const caseOpen = (path: string): Promise<CaseSummary> => call("case_open", { path });
export const caseSummary = (): Promise<CaseSummary> => call("case_summary");
export const caseClose = (): Promise<null> => call("case_close");
export const importFiles = (paths: string[]): Promise<ImportReport> => call("import_files", { paths });
/** Asks the running import to stop after the batch it is writing; `importFiles` then rejects with `import.cancelled`. */
export const cancelImport = (): Promise<null> => call("import_cancel");
export const searchCount = (query: string): Promise<SearchCount> => call("search_count", { query });
export const searchPage = (query: string, sort: SortOrder, after: string | null, limit: number): Promise<Page> =>
  call("search_page", { query, sort, after, limit });
/** The page that starts at `position` of the result list (the engine seeks through sparse anchors). */
export const searchPageAt = (query: string, sort: SortOrder, position: number, limit: number): Promise<Page> =>
  call("search_page_at", { query, sort, position, limit });
export const eventDetail = (id: string): Promise<EventDetail> => call("event_detail", { id });
/** What the case knows about one client address: country, network, class, first and last seen, accounts. */
export const ipCard = (ip: string): Promise<IpCard | null> => call("ip_card", { ip });
/** Every account of the case with its span and how much of its baseline was new. */
export const accounts = (): Promise<AccountSummary[]> => call("accounts", {});
/** One account's sessions, oldest first; a session used from several networks is marked. */
export const accountSessions = (account: string): Promise<AccountSession[]> => call("account_sessions", { account });
/** Matching events over time, stacked by action; `startMs`/`endMs` narrow it further (Unix ms, inclusive). */
export const histogram = (query: string, startMs: number | null = null, endMs: number | null = null): Promise<Histogram> =>
  call("histogram", { query, startMs, endMs });

// ---- facets (top values of nine fields for a query)
/**
 * Facets of a query. Large results (over 50,000 events) are first estimated from an evenly spread sample
 * (`sample` is set); `exact` counts every event, which can take seconds at millions of events. A newer
 * facets request replaces one still running: the older one fails with `query.superseded`.
 */
export const facets = (query: string, top?: number, exact?: boolean): Promise<Facets> =>
  call("facets", { query, top: top ?? null, exact: exact ?? null });

// ---- annotations (Tauri maps the camelCase argument names to the commands' snake_case parameters)
export const tagList = (): Promise<Tag[]> => call("tag_list");
export const tagCreate = (name: string, color: string): Promise<Tag> => call("tag_create", { name, color });
export const tagRename = (tagId: number, name: string): Promise<Tag> => call("tag_rename", { tagId, name });
export const tagRecolor = (tagId: number, color: string): Promise<Tag> => call("tag_recolor", { tagId, color });
/** Deletes a tag; resolves to the number of events that carried it. */
export const tagDelete = (tagId: number): Promise<number> => call("tag_delete", { tagId });
export const tagEvents = (tagId: number, eventIds: string[]): Promise<TagChange> => call("tag_events", { tagId, eventIds });
export const untagEvents = (tagId: number, eventIds: string[]): Promise<TagChange> => call("untag_events", { tagId, eventIds });
/** Tags every event matching `query` (the engine runs the search; the UI never builds SQL). */
export const tagQuery = (tagId: number, query: string): Promise<TagChange> => call("tag_query", { tagId, query });
export const untagQuery = (tagId: number, query: string): Promise<TagChange> => call("untag_query", { tagId, query });
/** Resolves to whether the event is bookmarked afterwards. */
export const bookmarkToggle = (eventId: string): Promise<boolean> => call("bookmark_toggle", { eventId });
export const bookmarkList = (): Promise<Bookmark[]> => call("bookmark_list");
export const noteList = (): Promise<Note[]> => call("note_list");
export const noteCreateEvent = (eventId: string, body: string): Promise<Note> => call("note_create_event", { eventId, body });
export const noteCreateRange = (startMs: number, endMs: number, body: string): Promise<Note> =>
  call("note_create_range", { startMs, endMs, body });
export const noteEdit = (noteId: number, body: string): Promise<Note> => call("note_edit", { noteId, body });
export const noteDelete = (noteId: number): Promise<null> => call("note_delete", { noteId });
export const savedSearchList = (): Promise<SavedSearch[]> => call("saved_search_list");
export const savedSearchCreate = (name: string, query: string): Promise<SavedSearch> => call("saved_search_create", { name, query });
export const savedSearchRename = (savedSearchId: number, name: string): Promise<SavedSearch> =>
  call("saved_search_rename", { savedSearchId, name });
export const savedSearchDelete = (savedSearchId: number): Promise<null> => call("saved_search_delete", { savedSearchId });
export const eventAnnotations = (eventIds: string[]): Promise<EventAnnotations[]> => call("event_annotations", { eventIds });

// ---- export
export const exportOptions = (): Promise<ExportOptions> => call("export_options");
/** Runs an export; `export-progress` events arrive meanwhile. Rejects with `export.cancelled` after exportCancel. */
export const exportEvents = (request: ExportRequest): Promise<ExportResult> => call("export_events", { request });
export const exportCancel = (): Promise<null> => call("export_cancel");

const EXPORT_FILTERS: Record<ExportFormat, { name: string; extensions: string[] }> = {
  csv: { name: "CSV (spreadsheet, comma-separated)", extensions: ["csv"] },
  jsonl: { name: "JSON Lines", extensions: ["jsonl"] },
  xlsx: { name: "Excel workbook", extensions: ["xlsx"] },
  html: { name: "HTML report", extensions: ["html"] },
};

/**
 * Save dialog for an export. Returns null when the user cancels; adds the format's extension if the
 * name has none of its own.
 */
export async function pickExportPath(suggestedName: string, format: ExportFormat, startAt?: string): Promise<string | null> {
  const filter = EXPORT_FILTERS[format];
  const ext = filter.extensions[0] ?? format;
  const base = suggestedName.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, " ").trim() || "export";
  let path: string | null;
  try {
    // `startAt`: a full path to open the dialog at (the destination typed in the export dialog).
    path = await save({ title: "Export events to", filters: [filter], defaultPath: startAt?.trim() || `${base}.${ext}` });
  } catch (e) {
    throw toErrorBody(e);
  }
  if (path === null || path === "") return null;
  return path.toLowerCase().endsWith(`.${ext}`) ? path : `${path}.${ext}`;
}

/** A destination typed in the export dialog, checked by the app (written by hand: not a ts-rs type). */
export interface ExportDestination {
  /** The full path the export will be written to, with the format's extension. */
  path: string;
  /** The folder it goes in. */
  folder: string;
  /** A file is already there and would be replaced (with its manifest). */
  replaces: boolean;
}

/** Checks a typed export destination; rejects with `export.invalid` saying what is wrong, in words. */
export const exportDestinationCheck = (path: string, format: ExportFormat): Promise<ExportDestination> =>
  call("export_destination_check", { path, format });

/**
 * Opens the computer's file manager at a written file (an export, its manifest, a report's CSV), with
 * the file selected. Rejects with `io` when the file is gone or no file manager could be opened.
 */
export const revealInFolder = (path: string): Promise<null> => call("reveal_in_folder", { path });

export const CASE_EXTENSION = "tidemark";
const CASE_FILTER = { name: "Tidemark case", extensions: [CASE_EXTENSION] };

/** Save dialog for a new case file. Returns null when the user cancels. Adds ".tidemark" if missing. */
export async function pickNewCasePath(suggestedName: string): Promise<string | null> {
  const base = suggestedName.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, " ").trim() || "case";
  let path: string | null;
  try {
    path = await save({ title: "Save the new case as", filters: [CASE_FILTER], defaultPath: `${base}.${CASE_EXTENSION}` });
  } catch (e) {
    throw toErrorBody(e);
  }
  if (path === null || path === "") return null;
  return path.toLowerCase().endsWith(`.${CASE_EXTENSION}`) ? path : `${path}.${CASE_EXTENSION}`;
}

/** Open dialog for an existing case file. */
export async function pickCaseToOpen(): Promise<string | null> {
  try {
    const path = await open({ title: "Open a case", multiple: false, directory: false, filters: [CASE_FILTER] });
    return typeof path === "string" && path !== "" ? path : null;
  } catch (e) {
    throw toErrorBody(e);
  }
}

function pathList(paths: string | string[] | null): string[] {
  if (paths === null) return [];
  return (Array.isArray(paths) ? paths : [paths]).filter((p): p is string => typeof p === "string" && p !== "");
}

/**
 * Open dialog for files to import (several at once). No filter: formats are recognised from the content,
 * and .zip and .gz files are opened.
 */
export async function pickFilesToImport(): Promise<string[]> {
  try {
    return pathList(await open({ title: "Choose files to import (audit logs, .zip or .gz)", multiple: true, directory: false }));
  } catch (e) {
    throw toErrorBody(e);
  }
}

/** Open dialog for folders to import: everything inside (subfolders, archives) is read. */
export async function pickFoldersToImport(): Promise<string[]> {
  try {
    return pathList(await open({ title: "Choose folders to import", multiple: true, directory: true }));
  } catch (e) {
    throw toErrorBody(e);
  }
}

export type Unlisten = () => void;

function safeUnlisten(p: Promise<() => void | Promise<void>>): Unlisten {
  let stopped = false;
  let fn: (() => void | Promise<void>) | null = null;
  p.then(
    (f) => {
      if (stopped) void Promise.resolve().then(f).catch(() => {});
      else fn = f;
    },
    () => {},
  );
  return () => {
    stopped = true;
    if (fn) void Promise.resolve().then(fn).catch(() => {});
  };
}

/** Subscribes to a backend event. Never throws; returns a no-op unsubscriber when events are unavailable. */
export function onEvent<T>(name: string, cb: (payload: T) => void): Unlisten {
  try {
    return safeUnlisten(listen<T>(name, (e) => cb(e.payload)));
  } catch {
    return () => {};
  }
}

/** Subscribes to `import-progress`. */
export const onImportProgress = (cb: (p: ImportProgress) => void): Unlisten => onEvent("import-progress", cb);

/** Subscribes to `export-progress`. */
export const onExportProgress = (cb: (p: ExportProgress) => void): Unlisten => onEvent("export-progress", cb);

export type DragDrop =
  | { type: "enter"; paths: string[] }
  | { type: "over" }
  | { type: "drop"; paths: string[] }
  | { type: "leave" };

/** Subscribes to files dragged onto the window. Never throws; a no-op outside Tauri. */
export function onDragDrop(cb: (e: DragDrop) => void): Unlisten {
  try {
    const webview = getCurrentWebview();
    return safeUnlisten(
      webview.onDragDropEvent((event) => {
        const p = event.payload;
        if (p.type === "enter") cb({ type: "enter", paths: [...(p.paths ?? [])] });
        else if (p.type === "over") cb({ type: "over" });
        else if (p.type === "drop") cb({ type: "drop", paths: [...(p.paths ?? [])] });
        else cb({ type: "leave" });
      }),
    );
  } catch {
    return () => {};
  }
}

// ---- Case home and the mailbox activity view
// (types imported here, next to the commands that use them)
import type { MailboxPage, MailboxReport, ReportExport, ReportKind } from "./bindings";

/**
 * One case-log entry (chain of custody), as the engine's `case_log` command sends it (`tidemark_core::case::LogEntry`;
 * written here by hand because the log types are not among the ts-rs generated bindings).
 */
export interface CaseLogEntry {
  /** Entry number. */
  id: number;
  /** When, ISO 8601 UTC. */
  time: string;
  /** Who (OS user name). */
  operator: string;
  /** What kind of action (`case.created`, `import`, `export`, `tag.create`, …). */
  action: string;
  /** One line for people. */
  summary: string;
  /** Structured details (JSON). */
  details: unknown;
  /** Hash of the subject of the entry (files, export manifest), hex. */
  sha256: string | null;
  /** This entry's chain hash, hex. */
  entry_hash: string;
}

/** An entry whose hash does not match the chain. */
export interface CaseLogIssue {
  id: number;
  problem: string;
}

/** The case log, oldest first, and the entries that break its hash chain (none when intact). */
export interface CaseLog {
  entries: CaseLogEntry[];
  issues: CaseLogIssue[];
}

export const caseLog = (): Promise<CaseLog> => call("case_log");

/** One page of the mailbox activity view; `from`/`to` are typed times (UTC), `after` the previous page's `next`. */
export const mailboxPage = (mailbox: string, from: string | null, to: string | null, after: string | null, limit: number): Promise<MailboxPage> =>
  call("mailbox_page", { mailbox, from, to, after, limit });
/** One page of a legacy Magic Unicorn report. */
export const mailboxReport = (
  mailbox: string,
  from: string | null,
  to: string | null,
  kind: ReportKind,
  after: string | null,
  limit: number,
): Promise<MailboxReport> => call("mailbox_report", { mailbox, from, to, kind, after, limit });
/** Writes a whole report as CSV to `path` (recorded in the case log). */
export const mailboxReportCsv = (mailbox: string, from: string | null, to: string | null, kind: ReportKind, path: string): Promise<ReportExport> =>
  call("mailbox_report_csv", { mailbox, from, to, kind, path });

/** Save dialog for a report's CSV. Returns null when the user cancels; adds ".csv" if missing. */
export async function pickReportCsvPath(suggestedName: string): Promise<string | null> {
  let path: string | null;
  try {
    path = await save({ title: "Export the report as CSV", filters: [{ name: "CSV (spreadsheet, comma-separated)", extensions: ["csv"] }], defaultPath: suggestedName });
  } catch (e) {
    throw toErrorBody(e);
  }
  if (path === null || path === "") return null;
  return path.toLowerCase().endsWith(".csv") ? path : `${path}.csv`;
}
