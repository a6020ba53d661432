import { describe, expect, it } from "vitest";
import { boardOrder, stateCounts, type AgentBoardRow } from "./board";

function row(username: string, state: AgentBoardRow["state"], onCall = false): AgentBoardRow {
  return {
    user_id: username.length,
    username,
    role: "agent",
    departments: [],
    skills: [],
    state,
    open_assignments: 0,
    callbacks_overdue: 0,
    handled_today: 0,
    current_call: onCall
      ? { call_id: "c", department: "sales", status: "active", since: "2026-01-01T00:00:00Z" }
      : null,
  };
}

describe("agent board", () => {
  const rows = [row("zed", "available"), row("amy", "offline"), row("bob", "busy"), row("cat", "available", true)];
  it("puts agents on a call first, then busy, available, away, offline, then by name", () => {
    expect(boardOrder(rows).map((r) => r.username)).toEqual(["cat", "bob", "zed", "amy"]);
  });
  it("counts each state", () => {
    expect(stateCounts(rows)).toEqual({ available: 2, busy: 1, away: 0, offline: 1 });
  });
});
