import { describe, expect, it } from "vitest";
import { describeCurrent, describeWrite } from "./ReplicaOutbox";
import type { Call, OutboxEntry } from "../../api/types";

function entry(over: Partial<OutboxEntry>): OutboxEntry {
  return {
    id: 1,
    idempotency_key: "01J",
    method: "POST",
    path: "/api/calls/c%2F1/disposition?department=sales",
    body: { category: "Not reachable", sub_category: "Busy", outcome: "no_answer" },
    state: "conflict",
    attempts: 1,
    last_error: null,
    response_status: 409,
    response_body: null,
    created_at: "2026-11-24T10:00:00.000Z",
    updated_at: "2026-11-24T10:05:00.000Z",
    ...over,
  };
}

describe("refused changes", () => {
  it("say what the person asked for", () => {
    expect(describeWrite(entry({}))).toBe("Disposition of call c/1: Not reachable · Busy (No answer)");
    expect(describeWrite(entry({ path: "/api/calls/x9/assign", body: {} }))).toBe("Assignment of call x9");
    expect(describeWrite(entry({ method: "PATCH", path: "/api/providers/sales", body: {} }))).toBe(
      "PATCH /api/providers/sales",
    );
  });

  it("and what is there now", () => {
    const now = { last_outcome: "resolved", attempts: 2, resolved_at: "2026-11-24T10:03:00Z", version: 7 } as Call;
    expect(describeCurrent(now)).toBe("Now: Resolved, 2 attempts, resolved (version 7).");
    expect(describeCurrent(undefined)).toBe("");
  });
});
