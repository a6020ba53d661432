// The agent board: who is available, busy, away or offline and for how
// long, the call each is on, their callbacks open and overdue, and how many
// calls they handled today. Supervisors change anyone's state here.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import { setAgentState } from "./queries";
import { AGENT_STATES, type AgentState } from "../../api/types";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Page } from "../../components/Page";
import { StatusBadge } from "../../components/StatusBadge";
import { formatDuration, formatPhone, formatWhen, secondsBetween, titleCase } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { providerName, useVisibleProviders } from "../../lib/useVisibleProviders";
import { boardOrder, stateCounts, useAgentBoard, type AgentBoardRow } from "./board";
import "./agents.css";

function StateSelect({ agent }: { agent: AgentBoardRow }) {
  const qc = useQueryClient();
  const set = useMutation({
    mutationFn: (state: AgentState) => setAgentState(agent.user_id, state),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.agents }),
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

export default function AgentBoard() {
  const board = useAgentBoard();
  const providers = useVisibleProviders();
  const now = useNow(1000);
  const rows = boardOrder(board.data?.data ?? []);
  const counts = stateCounts(rows);
  return (
    <Page title="Agent board">
      <ErrorBanner error={board.error} onRetry={() => void board.refetch()} />
      <ul className="agent-summary" aria-label="Agents by state" data-testid="agent-summary">
        {AGENT_STATES.map((s) => (
          <li key={s} className={`agent-state ${s}`}>
            <span className="dot" aria-hidden="true" />
            {titleCase(s)} <strong>{counts[s]}</strong>
          </li>
        ))}
      </ul>
      {board.isPending ? (
        <p className="muted">Loading agents…</p>
      ) : (
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Agents (scrolls sideways)">
          <table className="plain agent-board" data-testid="agents-table">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">State</th>
                <th scope="col">In state for</th>
                <th scope="col">Current call</th>
                <th scope="col" className="num">
                  Callbacks open
                </th>
                <th scope="col" className="num">
                  Overdue
                </th>
                <th scope="col" className="num">
                  Handled today
                </th>
                <th scope="col">Last assigned</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => {
                const c = a.current_call;
                return (
                  <tr key={a.user_id} data-username={a.username} data-state={a.state}>
                    <th scope="row">
                      {a.display_name || a.username}
                      <div className="hint">
                        {titleCase(a.role)}
                        {a.role === "agent" && a.departments.length > 0
                          ? ` · ${a.departments.map((d) => providerName(providers, d)).join(", ")}`
                          : ""}
                      </div>
                    </th>
                    <td>
                      <span className={`agent-state ${a.state}`}>
                        <span className="dot" aria-hidden="true" />
                        <StateSelect agent={a} />
                      </span>
                    </td>
                    <td data-testid="time-in-state">
                      {a.since ? formatDuration(secondsBetween(a.since, null, now)) : "—"}
                    </td>
                    <td data-testid="current-call">
                      {c ? (
                        <span className="row" style={{ gap: 6 }}>
                          <StatusBadge status={c.status} />
                          <span>{c.caller_name || formatPhone(c.mobile_number)}</span>
                          <span className="muted small">
                            {providerName(providers, c.department)} ·{" "}
                            {formatDuration(secondsBetween(c.since, null, now))}
                          </span>
                        </span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td className="num" data-testid="open">
                      {a.open_assignments}
                    </td>
                    <td className={`num${a.callbacks_overdue > 0 ? " sla-breach" : ""}`} data-testid="overdue">
                      {a.callbacks_overdue > 0 ? `⚠ ${a.callbacks_overdue}` : 0}
                    </td>
                    <td className="num" data-testid="handled">
                      {a.handled_today}
                    </td>
                    <td>{a.last_assigned_at ? formatWhen(a.last_assigned_at) : "—"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
