// Dialpad user ids ↔ Callboard users: events carrying a Dialpad user are
// attributed to that agent. One at a time, or a CRM export pasted in bulk.
import { useId, useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useUsers } from "../users/queries";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Page } from "../../components/Page";
import { formatWhen } from "../../lib/format";
import {
  bulkPutDialpadUsers,
  deleteDialpadUser,
  dialpadKeys,
  putDialpadUser,
  useDialpadUsers,
  type Mapping,
  type MappingInput,
} from "./queries";

/** "dialpad id, user name[, CRM id]" per line (comma, tab or semicolon); `#` starts a comment. */
export function parseBulk(text: string): { items: MappingInput[]; errors: string[] } {
  const items: MappingInput[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) return;
    const [id, user, crm, ...rest] = line.split(/[,;\t]/).map((s) => s.trim());
    if (!id || !user || rest.some(Boolean)) {
      errors.push(`Line ${i + 1}: expected "dialpad user id, user name[, CRM id]"`);
      return;
    }
    items.push(crm ? { external_id: id, username: user, crm_id: crm } : { external_id: id, username: user });
  });
  return { items, errors };
}

export default function DialpadUsersPage() {
  const id = useId();
  const qc = useQueryClient();
  const list = useDialpadUsers();
  const users = useUsers();
  const [external, setExternal] = useState("");
  const [userId, setUserId] = useState("");
  const [crmId, setCrmId] = useState("");
  const [bulk, setBulk] = useState("");
  const [replace, setReplace] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: dialpadKeys.all });

  const put = useMutation({
    mutationFn: () => putDialpadUser(external.trim(), Number(userId), crmId.trim() || undefined),
    onSuccess: () => {
      setExternal("");
      setUserId("");
      setCrmId("");
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (m: Mapping) => deleteDialpadUser(m.external_id),
    onSuccess: refresh,
  });
  const sync = useMutation({
    mutationFn: (items: MappingInput[]) => bulkPutDialpadUsers(items, replace),
    onSuccess: refresh,
  });

  const add = (e: FormEvent) => {
    e.preventDefault();
    if (!external.trim()) return setProblem("Enter the Dialpad user id.");
    if (!userId) return setProblem("Choose the Callboard user.");
    setProblem(null);
    put.mutate();
  };
  const importBulk = (e: FormEvent) => {
    e.preventDefault();
    const { items, errors } = parseBulk(bulk);
    if (errors.length) return setProblem(errors.join("; "));
    if (!items.length) return setProblem("Paste at least one line.");
    setProblem(null);
    sync.mutate(items);
  };

  return (
    <Page title="Dialpad users">
      <p className="muted" style={{ margin: 0 }}>
        Dialpad sends its own user id with each call event. Map it to a Callboard user so the call is attributed to that
        agent.
      </p>
      <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />
      <table className="plain" aria-label="Dialpad users" data-testid="dialpad-users">
        <thead>
          <tr>
            <th scope="col">Dialpad user id</th>
            <th scope="col">Callboard user</th>
            <th scope="col">CRM id</th>
            <th scope="col">Updated</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {(list.data?.data ?? []).map((m) => (
            <tr key={m.external_id}>
              <td>
                <code>{m.external_id}</code>
              </td>
              <td>
                {m.display_name || m.username} <span className="muted">({m.username})</span>
              </td>
              <td>{m.crm_id ? <code>{m.crm_id}</code> : <span className="muted">—</span>}</td>
              <td>{formatWhen(m.updated_at)}</td>
              <td className="actions">
                <button
                  type="button"
                  className="danger"
                  aria-label={`Remove ${m.external_id}`}
                  onClick={() => remove.mutate(m)}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
          {list.data?.data.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                No Dialpad users mapped yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <ErrorBanner error={remove.error} />
      <div className="grid2">
        <form className="card stack" onSubmit={add} noValidate aria-labelledby={`${id}-one`}>
          <h2 id={`${id}-one`} style={{ margin: 0, fontSize: 16 }}>
            Map one user
          </h2>
          <div className="field">
            <label htmlFor={`${id}-ext`}>Dialpad user id</label>
            <input id={`${id}-ext`} value={external} onChange={(e) => setExternal(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${id}-user`}>Callboard user</label>
            <select id={`${id}-user`} value={userId} onChange={(e) => setUserId(e.target.value)}>
              <option value="">Choose…</option>
              {(users.data?.data ?? [])
                .filter((u) => u.active)
                .map((u) => (
                  <option key={u.id} value={u.id}>
                    {u.display_name || u.username} ({u.username})
                  </option>
                ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-crm`}>CRM id (optional)</label>
            <input
              id={`${id}-crm`}
              value={crmId}
              onChange={(e) => setCrmId(e.target.value)}
              aria-describedby={`${id}-crm-hint`}
            />
            <small id={`${id}-crm-hint`} className="muted">
              The CRM&apos;s own id for this agent, so the CRM can look them up (
              <code>GET /api/dialpad/users?crm_id=…</code>). Left empty, a mapping keeps the one it has.
            </small>
          </div>
          <ErrorBanner error={put.error} />
          <div className="row">
            <button className="primary" type="submit" disabled={put.isPending}>
              Save mapping
            </button>
          </div>
        </form>
        <form className="card stack" onSubmit={importBulk} noValidate aria-labelledby={`${id}-bulk`}>
          <h2 id={`${id}-bulk`} style={{ margin: 0, fontSize: 16 }}>
            Import from a CRM
          </h2>
          <div className="field">
            <label htmlFor={`${id}-lines`}>Lines of “dialpad user id, user name[, CRM id]”</label>
            <textarea
              id={`${id}-lines`}
              rows={5}
              value={bulk}
              onChange={(e) => setBulk(e.target.value)}
              placeholder={"5550001, asha, SF-005\n5550002, ravi"}
            />
          </div>
          <label className="check">
            <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.target.checked)} />
            Remove mappings not in this list
          </label>
          <ErrorBanner error={sync.error} />
          {sync.data && (
            <p className="banner ok" role="status">
              Created {sync.data.created}, updated {sync.data.updated}, unchanged {sync.data.unchanged}, removed{" "}
              {sync.data.deleted}.
            </p>
          )}
          <div className="row">
            <button type="submit" disabled={sync.isPending}>
              Import
            </button>
          </div>
        </form>
      </div>
      {problem && (
        <p className="error-text" role="alert">
          {problem}
        </p>
      )}
    </Page>
  );
}
