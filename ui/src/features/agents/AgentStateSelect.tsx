// The signed-in person's availability (available, busy, away, offline):
// automatic callback routing only picks agents who are available or busy.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import { setAgentState, useAgents } from "./queries";
import { AGENT_STATES, type AgentState } from "../../api/types";
import { titleCase } from "../../lib/format";
import { useSession } from "../../session";

export function AgentStateSelect() {
  const { me } = useSession();
  const userId = me?.user?.id ?? null;
  const agents = useAgents(userId !== null);
  const qc = useQueryClient();
  const set = useMutation({
    mutationFn: (state: AgentState) => setAgentState(userId ?? 0, state),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.agents }),
  });
  if (userId === null) return null;
  const mine = agents.data?.data.find((a) => a.user_id === userId);
  const current = set.isPending ? set.variables : (mine?.state ?? "offline");
  return (
    <label className={`agent-state state-${current}`}>
      <span className="sr-only">My state</span>
      <select
        aria-label="My state"
        data-testid="my-state"
        value={current}
        title={set.error ? set.error.message : undefined}
        onChange={(e) => set.mutate(e.target.value as AgentState)}
      >
        {AGENT_STATES.map((s) => (
          <option key={s} value={s}>
            {titleCase(s)}
          </option>
        ))}
      </select>
    </label>
  );
}
