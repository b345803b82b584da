// Action categories, each with a hue: colour only for meaning.

export const ACTION_CATEGORIES = [
  "logon",
  "logon-failed",
  "read",
  "sync",
  "search",
  "send",
  "reply",
  "forward",
  "delete",
  "move",
  "attachment",
  "delivery",
  "rule",
  "forwarding",
  "permission",
  "consent",
  "role",
  "app-credential",
  "auth-method",
  "password",
  "admin",
  "other",
] as const;

export type ActionCategory = (typeof ACTION_CATEGORIES)[number];

const KNOWN: ReadonlySet<string> = new Set(ACTION_CATEGORIES);

/** The category used for colour; unknown actions are shown as written, in the neutral "other" colour. */
export function actionCategory(action: string | null | undefined): ActionCategory {
  const a = (action ?? "").trim().toLowerCase();
  return (KNOWN.has(a) ? a : "other") as ActionCategory;
}

/** Chip text: the action as the backend names it, so that it matches `action:` in the search box. */
export function actionLabel(action: string | null | undefined): string {
  const a = (action ?? "").trim();
  return a === "" ? "other" : a;
}
