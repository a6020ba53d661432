// A department's platform agent ids ↔ Callboard users: events that name a
// mapped agent id name that user (and the console can tell them). Kept per
// platform: every department on the same preset shares its list.
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";
import type { Provider } from "../../api/types";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { useUsers } from "../users/queries";

const key = (slug: string) => ["agent-ids", slug] as const;

export function AgentIdsCard({ provider }: { provider: Provider }) {
  const id = useId();
  const qc = useQueryClient();
  const slug = provider.slug;
  const list = useQuery({
    queryKey: key(slug),
    queryFn: ({ signal }) =>
      unwrap(client().GET("/api/providers/{slug}/agent-ids", { params: { path: { slug } }, signal })),
  });
  const users = useUsers();
  const [agentId, setAgentId] = useState("");
  const [userId, setUserId] = useState("");
  const refresh = () => void qc.invalidateQueries({ queryKey: ["agent-ids"] });
  const put = useMutation({
    mutationFn: () =>
      unwrap(
        client().PUT("/api/providers/{slug}/agent-ids/{agent_id}", {
          params: { path: { slug, agent_id: agentId.trim() } },
          body: { user_id: Number(userId) },
        }),
      ),
    onSuccess: () => {
      setAgentId("");
      setUserId("");
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (agent: string) =>
      unwrap(
        client().DELETE("/api/providers/{slug}/agent-ids/{agent_id}", {
          params: { path: { slug, agent_id: agent } },
        }),
      ),
    onSuccess: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (agentId.trim() && userId) put.mutate();
  };
  const shared = list.data?.platform.startsWith("provider:") === false;
  const rows = list.data?.data ?? [];
  return (
    <section className="card stack" aria-labelledby={`${id}-h`} data-testid="agent-ids">
      <h2 id={`${id}-h`} style={{ margin: 0, fontSize: 16 }}>
        Agent ids
      </h2>
      <p className="muted" style={{ margin: 0 }}>
        The platform&apos;s own id for each agent (what its events send as <code>agent_id</code>), and the Callboard
        user it is. Calls then show that user as the agent.
        {shared && ` Shared by every ${provider.preset ?? ""} department.`}
      </p>
      <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />
      {rows.length === 0 ? (
        <p className="muted">No agent id mapped yet.</p>
      ) : (
        <table className="plain">
          <thead>
            <tr>
              <th scope="col">Agent id</th>
              <th scope="col">Callboard user</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.external_id} data-agent-id={m.external_id}>
                <td>
                  <code>{m.external_id}</code>
                </td>
                <td>{m.display_name ?? m.username}</td>
                <td className="actions">
                  <button
                    type="button"
                    aria-label={`Remove agent id ${m.external_id}`}
                    aria-disabled={remove.isPending || undefined}
                    onClick={() => !remove.isPending && remove.mutate(m.external_id)}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="row" onSubmit={submit} aria-label="Map an agent id">
        <Field label="Agent id">
          {(p) => (
            <input
              {...p}
              value={agentId}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => setAgentId(e.target.value)}
            />
          )}
        </Field>
        <Field label="Callboard user">
          {(p) => (
            <select {...p} value={userId} onChange={(e) => setUserId(e.target.value)}>
              <option value="">Choose…</option>
              {(users.data?.data ?? []).map((u) => (
                <option key={u.id} value={u.id}>
                  {u.display_name ?? u.username}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" disabled={!agentId.trim() || !userId || put.isPending}>
          Map
        </button>
      </form>
      <ErrorBanner error={put.error ?? remove.error} />
    </section>
  );
}
