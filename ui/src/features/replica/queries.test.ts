import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { configure } from "../../api/client";
import type { OutboxEntry } from "../../api/types";
import { resend, secondsUntilRetry } from "./queries";

const seen: { method: string; url: string; body: unknown }[] = [];

function entry(path: string): OutboxEntry {
  return {
    id: 7,
    idempotency_key: "01J",
    method: "POST",
    path,
    body: {},
    state: "conflict",
    attempts: 1,
    created_at: "2026-11-24T10:00:00.000Z",
    updated_at: "2026-11-24T10:05:00.000Z",
  };
}

beforeEach(() => {
  seen.length = 0;
  configure({ base: "http://cb.test", token: "t" });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (req: Request) => {
      const text = await req.text();
      seen.push({ method: req.method, url: req.url, body: text ? JSON.parse(text) : undefined });
      return new Response(JSON.stringify({ ok: true }), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  configure({ base: "", token: null });
});

describe("re-applying a refused write", () => {
  it("sends a disposition again to its call, department and body", async () => {
    const body = { category: "Sales", outcome: "resolved", expected_version: 4 };
    await resend(entry("/api/calls/c%2F1/disposition?department=sales"), body);
    expect(seen).toEqual([
      { method: "POST", url: "http://cb.test/api/calls/c%2F1/disposition?department=sales", body },
    ]);
  });

  it("sends an unassignment without a body", async () => {
    await resend(entry("/api/calls/x9/unassign"), {});
    expect(seen).toEqual([{ method: "POST", url: "http://cb.test/api/calls/x9/unassign", body: undefined }]);
  });

  it("refuses a write that is not a call's, sending nothing", async () => {
    await expect(resend(entry("/api/providers/sales"), {})).rejects.toThrow(/Only changes to a call/);
    expect(seen).toEqual([]);
  });
});

describe("secondsUntilRetry", () => {
  it("counts down from when the status was read, never below zero, and is null when not waiting", () => {
    const read = 1_000_000;
    expect(secondsUntilRetry(8_200, read, read)).toBe(9);
    expect(secondsUntilRetry(8_200, read, read + 5_000)).toBe(4);
    expect(secondsUntilRetry(8_200, read, read + 9_000)).toBe(0);
    expect(secondsUntilRetry(null, read, read)).toBeNull();
    expect(secondsUntilRetry(undefined, read, read)).toBeNull();
  });
});
