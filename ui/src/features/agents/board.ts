// The agent board's data: one row per user with state, the call they are
// on, callbacks open/overdue and calls handled today (`GET /api/agents/board`).
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { components } from "../../api/schema";
import { usePollWhileOffline } from "../../stream/StreamProvider";
import type { AgentState } from "../../api/types";

export type AgentBoardRow = components["schemas"]["AgentBoardRow"];

/** Under ["agents"]: `agent.state_changed` refreshes it, and call changes too (stream/apply.ts). */
export function useAgentBoard() {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: keys.agentBoard,
    queryFn: ({ signal }) => unwrap(client().GET("/api/agents/board", { signal })),
    refetchInterval: poll,
  });
}

const ORDER: Record<AgentState, number> = { busy: 0, available: 1, away: 2, offline: 3 };

/** On a call first, then by state (busy, available, away, offline), then by name. */
export function boardOrder(rows: readonly AgentBoardRow[]): AgentBoardRow[] {
  const name = (r: AgentBoardRow) => (r.display_name || r.username).toLowerCase();
  return [...rows].sort(
    (a, b) =>
      Number(!a.current_call) - Number(!b.current_call) ||
      ORDER[a.state] - ORDER[b.state] ||
      name(a).localeCompare(name(b)),
  );
}

/** How many users are in each state. */
export function stateCounts(rows: readonly AgentBoardRow[]): Record<AgentState, number> {
  const out: Record<AgentState, number> = { available: 0, busy: 0, away: 0, offline: 0 };
  for (const r of rows) out[r.state] += 1;
  return out;
}
