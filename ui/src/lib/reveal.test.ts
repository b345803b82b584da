// "Show in folder" and finding the open event in a new result: the IPC call and the query they build.
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...a: unknown[]) => invoke(...a) }));

import { revealInFolder } from "./backend";
import { earlierQuery } from "./query";
import { REVEAL_ADVICE } from "./errors";

describe("revealInFolder", () => {
  beforeEach(() => {
    invoke.mockReset();
  });
  it("asks the app to show the file, by its path", async () => {
    invoke.mockResolvedValue(null);
    await expect(revealInFolder("/exports/alice.xlsx")).resolves.toBeNull();
    expect(invoke).toHaveBeenCalledWith("reveal_in_folder", { path: "/exports/alice.xlsx" });
  });
  it("rejects with the app's ErrorBody, in its words", async () => {
    const body = { code: "io", message: "/exports/alice.xlsx is not there any more (moved or deleted), so it cannot be shown.", detail: null };
    invoke.mockRejectedValue(body);
    await expect(revealInFolder("/exports/alice.xlsx")).rejects.toEqual(body);
  });
  it("a failure without an ErrorBody becomes one", async () => {
    invoke.mockRejectedValue("plugin missing");
    await expect(revealInFolder("/x.csv")).rejects.toMatchObject({ code: "internal", detail: "plugin missing" });
    expect(REVEAL_ADVICE).toMatch(/open that folder in your file manager yourself/);
  });
});

describe("earlierQuery (the position of an open event in a new result)", () => {
  const t = Date.UTC(2025, 11, 1, 8, 30, 0, 250);
  it("oldest first: the events up to the millisecond before it", () => {
    expect(earlierQuery('actor:"alice@contoso.example"', t, "asc")).toBe('actor:"alice@contoso.example" before:2025-12-01T08:30:00.249Z');
    expect(earlierQuery("  ", t, "asc")).toBe("before:2025-12-01T08:30:00.249Z");
  });
  it("newest first: the events from the millisecond after it; OR and an own range are kept", () => {
    expect(earlierQuery("ip:1.2.3.4 OR ip:5.6.7.8 after:2025-12-01", t, "desc")).toBe("ip:1.2.3.4 OR ip:5.6.7.8 after:2025-12-01 after:2025-12-01T08:30:00.251Z");
  });
});
