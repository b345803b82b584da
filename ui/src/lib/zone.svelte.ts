// The display time zone: UTC (the default, what audit logs use), the computer's own zone, or a zone the
// investigator chose (IANA name). Every time the UI shows goes through format.ts, which reads this
// state, so changing it repaints every time on screen. Remembered across sessions. Queries
// (after:/before:) stay in UTC: the engine reads them so.

export type ZoneChoice = "UTC" | "local" | string;

const KEY = "tidemark.displayZone";

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

/** Whether the runtime knows this IANA zone name. */
export function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function initial(): ZoneChoice {
  const v = storage()?.getItem(KEY) ?? "UTC";
  return v === "UTC" || v === "local" || isValidZone(v) ? v : "UTC";
}

const state = $state<{ choice: ZoneChoice }>({ choice: initial() });

/** What the investigator chose: "UTC", "local" or an IANA name. */
export function zoneChoice(): ZoneChoice {
  return state.choice;
}

export function setZoneChoice(choice: ZoneChoice): void {
  if (choice !== "UTC" && choice !== "local" && !isValidZone(choice)) return;
  state.choice = choice;
  storage()?.setItem(KEY, choice);
}

/** The computer's own zone. */
export function localZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The IANA zone times are shown in ("UTC" for UTC). */
export function displayZone(): string {
  const c = state.choice;
  if (c === "local") return localZone();
  return c;
}

/** Every zone the runtime knows, for the chooser. */
export function knownZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : [];
  } catch {
    return [];
  }
}
