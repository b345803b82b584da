// The preflight checklist in words: what each check is, its state as a word and a symbol (never colour
// alone), and one line that sums the list up.

import type { Check } from "./collectBindings";
import { plural } from "./format";
import { sourceName } from "./coverage";

const CHECK_NAMES: Record<string, string> = {
  token: "Sign-in",
  permission: "Permission",
  auditing: "Audit logging",
  subscription: "Subscription",
  available: "Available in this cloud",
};

export function checkName(check: string): string {
  return CHECK_NAMES[check] ?? check;
}

export type CheckState = "ok" | "warn" | "fail";

export function checkState(status: string): CheckState {
  return status === "ok" ? "ok" : status === "warn" ? "warn" : "fail";
}

export const STATE_WORD: Record<CheckState, { word: string; symbol: string }> = {
  ok: { word: "OK", symbol: "✓" },
  warn: { word: "Warning", symbol: "!" },
  fail: { word: "Problem", symbol: "✕" },
};

export interface CheckGroup {
  source: string;
  label: string;
  state: CheckState;
  checks: Check[];
}

/** Checks per source, in the order they came; a group's state is its worst check's. */
export function groupChecks(checks: Check[]): CheckGroup[] {
  const groups = new Map<string, CheckGroup>();
  for (const c of checks) {
    let g = groups.get(c.source);
    if (!g) {
      g = { source: c.source, label: sourceName(c.source), state: "ok", checks: [] };
      groups.set(c.source, g);
    }
    g.checks.push(c);
    const s = checkState(c.status);
    if (s === "fail" || (s === "warn" && g.state === "ok")) g.state = s;
  }
  return [...groups.values()];
}

export interface PreflightSummary {
  state: CheckState;
  text: string;
  /** Sources that cannot be collected until fixed. */
  failing: string[];
}

export function preflightSummary(checks: Check[]): PreflightSummary {
  const groups = groupChecks(checks);
  const failing = groups.filter((g) => g.state === "fail").map((g) => g.source);
  const warns = checks.filter((c) => checkState(c.status) === "warn").length;
  if (checks.length === 0) return { state: "warn", text: "No source was checked.", failing };
  if (failing.length > 0) {
    const names = groups.filter((g) => g.state === "fail").map((g) => g.label);
    const ok = groups.length - failing.length;
    return {
      state: "fail",
      text: `${names.join(" and ")} cannot be collected until ${failing.length === 1 ? "its problem is" : "their problems are"} fixed (see “What to do”).${ok > 0 ? ` ${plural(ok, "other source is", "other sources are")} ready.` : ""}`,
      failing,
    };
  }
  if (warns > 0) return { state: "warn", text: `Ready to collect. ${plural(warns, "warning", "warnings")}: Tidemark handles ${warns === 1 ? "it" : "them"} during the collection.`, failing };
  return { state: "ok", text: "Ready to collect: every check passed.", failing };
}
