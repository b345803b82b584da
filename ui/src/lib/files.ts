// How input files are named to people in the import progress and report. Paths are evidence: they are
// shown as given (never shortened in a way that hides which file it was), only split for legibility.

import type { AcquiredFile } from "./bindings";

/** The last path component ("C:\\x\\ual.csv" → "ual.csv"); the whole input if there is none. */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  const i = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  const name = i >= 0 ? trimmed.slice(i + 1) : trimmed;
  return name === "" ? path : name;
}

/** What the engine calls an input (`archive.zip › member.json`, `x.json.gz (gzip)`), split for display. */
export interface FileLabel {
  /** The file's own name: the archive member's path, or the file name. */
  name: string;
  /** Where it is: the folder, or "archive.zip" for members. */
  where: string;
  /** "zip" for an archive member, "gzip" for a gzip file, null otherwise. */
  packed: "zip" | "gzip" | null;
  /** The archive or gzip file, when there is one. */
  container: string | null;
}

const MEMBER_SEP = " › ";
const GZIP_SUFFIX = " (gzip)";

function folderOf(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i > 0 ? path.slice(0, i) : "";
}

/** Splits an input's display path. `container` is the archive (from the report); null while importing. */
export function fileLabel(display: string, container: string | null = null): FileLabel {
  if (container !== null && display.startsWith(container + MEMBER_SEP)) {
    return { name: display.slice(container.length + MEMBER_SEP.length), where: container, packed: "zip", container };
  }
  if (container !== null && display === container + GZIP_SUFFIX) {
    return { name: baseName(container), where: folderOf(container), packed: "gzip", container };
  }
  if (container === null) {
    // While importing only the display string is known: an archive member is "archive › member".
    const k = display.indexOf(MEMBER_SEP);
    if (k > 0) {
      const archive = display.slice(0, k);
      return { name: display.slice(k + MEMBER_SEP.length), where: archive, packed: "zip", container: archive };
    }
    if (display.endsWith(GZIP_SUFFIX)) {
      const file = display.slice(0, -GZIP_SUFFIX.length);
      return { name: baseName(file), where: folderOf(file), packed: "gzip", container: file };
    }
  }
  return { name: baseName(display), where: folderOf(display), packed: null, container };
}

/** "utf-8" → "UTF-8", "utf-16le" → "UTF-16 LE"; anything else as given. */
export function encodingLabel(enc: string): string {
  switch (enc.toLowerCase()) {
    case "utf-8":
      return "UTF-8";
    case "utf-8-bom":
      return "UTF-8 with BOM";
    case "utf-16le":
      return "UTF-16 LE";
    case "utf-16be":
      return "UTF-16 BE";
    case "windows-1252":
    case "cp1252":
      return "Windows-1252";
    default:
      return enc;
  }
}

/** A file the investigator should look at: it had malformed records, or no records at all. */
export function needsAttention(f: AcquiredFile): boolean {
  return f.malformed > 0 || f.records === 0;
}

/** Files needing attention first (so they are never hidden behind "Show all"), otherwise import order. */
export function reportOrder(files: readonly AcquiredFile[]): AcquiredFile[] {
  return [...files.filter(needsAttention), ...files.filter((f) => !needsAttention(f))];
}
