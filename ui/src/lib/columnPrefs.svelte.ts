// Which timeline columns the investigator chose, remembered across sessions (localStorage).

import { DEFAULT_COLUMNS, isColumnKey, type ColumnKey } from "./columns";

const KEY = "tidemark.columns";

function load(): ColumnKey[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(KEY) ?? "null");
    if (Array.isArray(v)) {
      const keys = v.filter(isColumnKey);
      if (keys.length > 0) return keys;
    }
  } catch {
    // no storage, or something else in it: the defaults
  }
  return [...DEFAULT_COLUMNS];
}

const state = $state<{ keys: ColumnKey[] }>({ keys: load() });

export function visibleColumnKeys(): readonly ColumnKey[] {
  return state.keys;
}

function save(): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(state.keys));
  } catch {
    // not remembered, still applied
  }
}

export function setColumnVisible(key: ColumnKey, visible: boolean): void {
  if (key === "time") return;
  const has = state.keys.includes(key);
  if (visible && !has) state.keys = [...state.keys, key];
  else if (!visible && has) state.keys = state.keys.filter((k) => k !== key);
  save();
}

export function resetColumns(): void {
  state.keys = [...DEFAULT_COLUMNS];
  save();
}
