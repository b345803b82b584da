// Case home logic: what an acquisition's status means, where its error is, and the case log in the
// order people read it. Pure functions, unit-tested.

import type { Acquisition } from "./bindings";
import type { CaseLogEntry } from "./backend";
import { formatDuration, formatIsoZoned, plural } from "./format";

export type Tone = "ok" | "warn" | "danger" | "info";

export interface StatusInfo {
  label: string;
  tone: Tone;
  /** A sentence saying what it means for the case, or "" when nothing needs saying. */
  sentence: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The error an import ended with. The acquisition row does not carry it; the case-log entry that
 * closed the acquisition does (`details.acquisition_id`, `details.error`).
 */
export function acquisitionError(a: Acquisition, log: CaseLogEntry[]): string | null {
  for (let i = log.length - 1; i >= 0; i--) {
    const e = log[i];
    if (!e || !isRecord(e.details)) continue;
    if (e.details.acquisition_id === a.id && typeof e.details.error === "string" && e.details.error !== "") return e.details.error;
  }
  return null;
}

/** Status in words. `importing` says whether an import is running in this window right now. */
export function acquisitionStatus(a: Acquisition, error: string | null, importing = false): StatusInfo {
  const kept = plural(a.records_read, "record", "records");
  switch (a.status) {
    case "completed":
      return { label: "Completed", tone: "ok", sentence: "" };
    case "interrupted":
      return {
        label: "Interrupted",
        tone: "warn",
        sentence: `Stopped before the end. The ${kept} read before that are kept; importing the same files again adds the rest (records already in the case are recognised).`,
      };
    case "failed":
      return {
        label: "Failed",
        tone: "danger",
        sentence: `${error ?? "It ended with an error."} The ${kept} read before that are kept.`,
      };
    case "running":
      return importing
        ? { label: "Running", tone: "info", sentence: "This import is running now." }
        : {
            label: "Did not finish",
            tone: "warn",
            sentence: `Tidemark stopped while this ran (closed or crashed). The ${kept} written before that are kept.`,
          };
    default:
      return { label: a.status, tone: "info", sentence: "" };
  }
}

/** Where the error text is shown: failed and interrupted acquisitions with an error from the log. */
export function statusError(a: Acquisition, error: string | null): string | null {
  if (a.status === "failed" || a.status === "interrupted") return error;
  return null;
}

/** "Import", "Collection", or the kind as stored. */
export function kindLabel(kind: string): string {
  if (kind === "import") return "Import";
  if (kind === "collection") return "Collection";
  return kind;
}

/** The formats of an acquisition in people's words (from its files), else the engine's ids. */
export function sourceNames(a: Acquisition): string[] {
  const names: string[] = [];
  for (const f of a.files) if (f.format_name && !names.includes(f.format_name)) names.push(f.format_name);
  if (names.length > 0) return names;
  return a.source
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** "took 2.4 s" / "" when it has not finished. */
export function tookText(a: Acquisition): string {
  if (!a.finished_at) return "";
  const ms = Date.parse(a.finished_at) - Date.parse(a.started_at);
  if (!Number.isFinite(ms) || ms < 0) return "";
  return `took ${formatDuration(ms)}`;
}

/** Archives an import read (path, size, SHA-256), from its parameters. */
export function acquisitionContainers(a: Acquisition): Array<{ path: string; size: number | null; sha256: string }> {
  let p: unknown;
  try {
    p = JSON.parse(a.parameters);
  } catch {
    return [];
  }
  if (!isRecord(p) || !Array.isArray(p.containers)) return [];
  const out: Array<{ path: string; size: number | null; sha256: string }> = [];
  for (const c of p.containers) {
    if (isRecord(c) && typeof c.path === "string" && typeof c.sha256 === "string") {
      out.push({ path: c.path, size: typeof c.size === "number" ? c.size : null, sha256: c.sha256 });
    }
  }
  return out;
}

/** The case log newest first. */
export function newestFirst(entries: CaseLogEntry[]): CaseLogEntry[] {
  return [...entries].sort((a, b) => b.id - a.id);
}

/** "import" → "Import", "case.created" → "Case created", "tag.create" → "Tag create". */
export function logActionLabel(action: string): string {
  const known: Record<string, string> = {
    "case.created": "Case created",
    "case.migrated": "Case upgraded",
    import: "Import",
    collection: "Collection",
    export: "Export",
    "acquisition.interrupted": "Acquisition interrupted",
    "case.time_zone": "Time zone set",
  };
  const k = known[action];
  if (k) return k;
  const words = action.replace(/[._-]+/g, " ").trim();
  return words === "" ? action : words.charAt(0).toUpperCase() + words.slice(1);
}

/** "2025-12-04 09:12:00 UTC" for the log's timestamps, in the display zone ("… UTC+01:00" elsewhere). */
export function logTime(iso: string): string {
  return formatIsoZoned(iso, "second");
}
