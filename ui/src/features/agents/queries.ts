// Users' availability: the state picker in the header and the agent board.
// `agent.state_changed` refreshes every key under ["agents"] (stream/apply.ts).
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import { keys } from "../../api/keys";
import type { AgentState } from "../../api/types";
import { usePollWhileOffline } from "../../stream/StreamProvider";

/** Users' states; agents get only their own row. */
export function useAgents(enabled = true) {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: keys.agents,
    queryFn: ({ signal }) => unwrap(client().GET("/api/agents", { signal })),
    refetchInterval: poll,
    enabled,
  });
}

export function setAgentState(userId: number, state: AgentState) {
  return unwrap(client().PUT("/api/agents/{id}/state", { params: { path: { id: userId } }, body: { state } }));
}
