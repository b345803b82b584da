// Action groups: the colours of the timeline's row stripes, the histogram's stacks and the legend.
// Eight groups, coloured with the Okabe–Ito palette (distinguishable with the common colour-vision
// deficiencies); each action belongs to exactly one group. The colours are CSS variables (app.css,
// `--g-…`), tuned per theme.

import { actionCategory, type ActionCategory } from "./actions";

export interface ActionGroup {
  key: string;
  label: string;
  actions: readonly ActionCategory[];
}

export const ACTION_GROUPS: readonly ActionGroup[] = [
  { key: "signin", label: "Sign-in", actions: ["logon"] },
  { key: "failed", label: "Failed sign-in", actions: ["logon-failed"] },
  { key: "read", label: "Read", actions: ["read", "sync", "search", "attachment"] },
  { key: "send", label: "Send", actions: ["send", "reply", "forward"] },
  { key: "delete", label: "Delete, move", actions: ["delete", "move"] },
  { key: "rule", label: "Rules, forwarding", actions: ["rule", "forwarding"] },
  {
    key: "admin",
    label: "Admin",
    actions: ["permission", "consent", "role", "app-credential", "auth-method", "password", "admin"],
  },
  { key: "other", label: "Other", actions: ["delivery", "other"] },
];

const BY_ACTION = new Map<string, number>();
ACTION_GROUPS.forEach((g, i) => g.actions.forEach((a) => BY_ACTION.set(a, i)));

/** Index into ACTION_GROUPS of an action as the engine names it (unknown actions are "other"). */
export function groupIndex(action: string | null | undefined): number {
  return BY_ACTION.get(actionCategory(action)) ?? ACTION_GROUPS.length - 1;
}

/** The group key of an action, for the `g-…` colour classes. */
export function groupKey(action: string | null | undefined): string {
  return ACTION_GROUPS[groupIndex(action)]?.key ?? "other";
}
