// Agents: who is available, busy, away or offline, since when, and how much
// open callback work each holds. Supervisors change anyone's state here.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { useAgents } from "../api/queries";
import { AGENT_STATES, type AgentState, type AgentStatus } from "../api/types";
import { ErrorBanner } from "../components/ErrorBanner";
import { Page } from "../components/Page";
import { formatWhen, titleCase } from "../lib/format";

function StateSelect({ agent }: { agent: AgentStatus }) {
  const qc = useQueryClient();
  const set = useMutation({
    mutationFn: (state: AgentState) => api.put<AgentStatus>(`/api/agents/${agent.user_id}/state`, { state }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["agents"] }),
  });
  return (
    <>
      <select
        aria-label={`State of ${agent.username}`}
        value={set.isPending ? set.variables : agent.state}
        onChange={(e) => set.mutate(e.target.value as AgentState)}
      >
        {AGENT_STATES.map((s) => (
          <option key={s} value={s}>
            {titleCase(s)}
          </option>
        ))}
      </select>
      <ErrorBanner error={set.error} />
    </>
  );
}

export default function AgentsPage() {
  const agents = useAgents();
  const rows = agents.data?.data ?? [];
  return (
    <Page title="Agents">
      <ErrorBanner error={agents.error} onRetry={() => void agents.refetch()} />
      {agents.isPending ? (
        <p className="muted">Loading agents…</p>
      ) : (
        <table className="plain" data-testid="agents-table">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Departments</th>
              <th scope="col">Skills</th>
              <th scope="col">State</th>
              <th scope="col">Since</th>
              <th scope="col">Open callbacks</th>
              <th scope="col">Last assigned</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((a) => (
              <tr key={a.user_id} data-username={a.username} data-state={a.state}>
                <td>{a.display_name || a.username}</td>
                <td>{titleCase(a.role)}</td>
                <td>{a.role === "agent" ? a.departments.join(", ") || "—" : "All"}</td>
                <td>{a.skills.join(", ") || "—"}</td>
                <td>
                  <StateSelect agent={a} />
                </td>
                <td>{a.since ? formatWhen(a.since) : "—"}</td>
                <td>{a.open_assignments}</td>
                <td>{a.last_assigned_at ? formatWhen(a.last_assigned_at) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
