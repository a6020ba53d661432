// IVR flows: the list (/flows), and one flow's editor (/flows/:id). Admins
// create, edit, publish, roll back, duplicate and delete; supervisors look.
import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { Page } from "../../components/Page";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Dialog } from "../../components/Dialog";
import { Field } from "../../components/Field";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { formatWhen } from "../../lib/format";
import { useSession } from "../../session";
import { flowsApi, useFlowMutation, useFlows, useFlowVersions, validationErrorsOf, type Flow } from "./api";
import { FlowEditorPage } from "./FlowEditor";
import { FlowAnalyticsPage } from "./FlowAnalytics";
import "./flows.css";

export default function FlowsRoute() {
  const { id, view } = useParams();
  if (id && view === "analytics") return <FlowAnalyticsPage id={id} />;
  if (id) return <FlowEditorPage id={id} />;
  return <FlowsPage />;
}

/** "v3", "v3 · draft changed", or "Draft only". */
export function versionText(f: Flow): string {
  if (!f.version) return "Draft only";
  return f.draft_changed ? `v${f.version} · draft changed` : `v${f.version}`;
}

function FlowsPage() {
  const { isAdmin } = useSession();
  const navigate = useNavigate();
  const flows = useFlows();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Flow | null>(null);
  const [rollingBack, setRollingBack] = useState<Flow | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const template = useFlowMutation(() => flowsApi.fromTemplate());
  const duplicate = useFlowMutation((f: Flow) => flowsApi.duplicate(f.id));
  const publish = useFlowMutation((f: Flow) => flowsApi.publish(f.id));
  const list = [...(flows.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const actionError = template.error ?? duplicate.error ?? publish.error;
  const publishErrors = validationErrorsOf(publish.error);

  return (
    <Page
      title="IVR flows"
      actions={
        isAdmin && (
          <>
            <button type="button" className="primary" onClick={() => setCreating(true)}>
              New flow
            </button>
            <button
              type="button"
              aria-disabled={template.isPending || undefined}
              onClick={() =>
                !template.isPending &&
                template.mutate(undefined, { onSuccess: (f) => navigate(`/flows/${encodeURIComponent(String(f.id))}`) })
              }
            >
              {template.isPending ? "Creating…" : "New from “Customer support” template"}
            </button>
          </>
        )
      }
    >
      <ErrorBanner error={flows.error} onRetry={() => void flows.refetch()} />
      {publishErrors ? (
        <div className="banner error" role="alert">
          Cannot publish: {publishErrors.length} problem(s). Open the flow to fix them.
        </div>
      ) : (
        <ErrorBanner error={actionError} />
      )}
      {note && (
        <div className="flow-list-notes">
          <p className="banner ok" role="status">
            {note}
          </p>
        </div>
      )}
      {flows.isPending ? (
        <p className="muted">Loading flows…</p>
      ) : list.length === 0 && !flows.error ? (
        <div className="card stack">
          <p>
            No IVR flows yet.{" "}
            {isAdmin
              ? "Start from the “Customer support” template, or draw one from a blank canvas."
              : "An administrator designs them."}
          </p>
        </div>
      ) : (
        <table className="plain flows-table" data-testid="flows-table">
          <thead>
            <tr>
              <th scope="col">Flow</th>
              <th scope="col">Published</th>
              <th scope="col" className="num">
                Nodes
              </th>
              <th scope="col">Used by</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((f) => (
              <tr key={String(f.id)} data-testid="flow-row" data-flow={f.name}>
                <td>
                  <Link to={`/flows/${encodeURIComponent(String(f.id))}`} className="provider-name">
                    {f.name}
                  </Link>
                </td>
                <td data-testid="flow-version">{versionText(f)}</td>
                <td className="num">{f.nodes?.length ?? 0}</td>
                <td className="small">{f.used_by?.length ? f.used_by.join(", ") : <span className="muted">—</span>}</td>
                <td className="small">{f.updated_at ? formatWhen(f.updated_at) : "—"}</td>
                <td className="actions">
                  <Link
                    className="button"
                    to={`/flows/${encodeURIComponent(String(f.id))}`}
                    aria-label={`${isAdmin ? "Edit" : "Open"} ${f.name}`}
                  >
                    {isAdmin ? "Edit" : "Open"}
                  </Link>
                  <Link
                    className="button"
                    to={`/flows/${encodeURIComponent(String(f.id))}/analytics`}
                    aria-label={`Analytics of ${f.name}`}
                  >
                    Analytics
                  </Link>
                  {isAdmin && (
                    <>
                      <button
                        type="button"
                        aria-label={`Publish ${f.name}`}
                        onClick={() =>
                          publish.mutate(f, { onSuccess: (r) => setNote(`${f.name}: version ${r.version} published.`) })
                        }
                      >
                        Publish
                      </button>
                      {f.version > 1 && (
                        <button type="button" aria-label={`Roll back ${f.name}`} onClick={() => setRollingBack(f)}>
                          Roll back
                        </button>
                      )}
                      <button
                        type="button"
                        aria-label={`Duplicate ${f.name}`}
                        onClick={() => duplicate.mutate(f, { onSuccess: (c) => setNote(`Duplicated as “${c.name}”.`) })}
                      >
                        Duplicate
                      </button>
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete ${f.name}`}
                        onClick={() => setDeleting(f)}
                      >
                        Delete
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && (
        <NewFlowDialog
          onClose={() => setCreating(false)}
          onCreated={(f) => navigate(`/flows/${encodeURIComponent(String(f.id))}`)}
        />
      )}
      {deleting && <DeleteDialog flow={deleting} onClose={() => setDeleting(null)} />}
      {rollingBack && (
        <RollbackDialog
          flow={rollingBack}
          onClose={() => setRollingBack(null)}
          onDone={(r) => setNote(`${rollingBack.name}: version ${r.from} published again as version ${r.version}.`)}
        />
      )}
    </Page>
  );
}

function NewFlowDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (f: Flow) => void }) {
  const [name, setName] = useState("");
  const [tried, setTried] = useState(false);
  const create = useFlowMutation((n: string) =>
    flowsApi.create({
      name: n,
      entry: "welcome",
      nodes: [{ id: "welcome", type: "welcome", say: "Welcome.", position: { x: 0, y: 0 } }],
    }),
  );
  const error = tried && !name.trim() ? "Name the flow." : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (!name.trim() || create.isPending) return;
    create.mutate(name.trim(), { onSuccess: onCreated });
  };
  return (
    <Dialog title="New IVR flow" onClose={onClose}>
      <form className="stack" onSubmit={submit} noValidate>
        <Field label="Name" error={error}>
          {(p) => <input {...p} value={name} maxLength={80} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <ErrorBanner error={create.error} />
        <div className="row">
          <button type="submit" className="primary" aria-disabled={create.isPending || undefined}>
            {create.isPending ? "Creating…" : "Create and open"}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteDialog({ flow, onClose }: { flow: Flow; onClose: () => void }) {
  const del = useFlowMutation(() => flowsApi.remove(flow.id));
  return (
    <ConfirmDialog
      title={`Delete ${flow.name}?`}
      confirmLabel="Delete"
      danger
      busy={del.isPending}
      error={del.error}
      onCancel={onClose}
      onConfirm={() => del.mutate(undefined, { onSuccess: onClose })}
    >
      <p>
        The flow and all its versions go. Calls already in it finish on their version. A flow a provider still uses
        cannot be deleted: point the provider at another flow first.
      </p>
    </ConfirmDialog>
  );
}

export function RollbackDialog({
  flow,
  onClose,
  onDone,
}: {
  flow: Flow;
  onClose: () => void;
  onDone: (r: { version: number; from: number }) => void;
}) {
  const versions = useFlowVersions(flow.id);
  const older = (versions.data ?? []).filter((v) => v.version !== flow.version).sort((a, b) => b.version - a.version);
  const [chosen, setChosen] = useState<number | null>(null);
  const version = chosen ?? older[0]?.version ?? null;
  const roll = useFlowMutation((v: number) => flowsApi.rollback(flow.id, v), flow.id);
  return (
    <ConfirmDialog
      title={`Roll back ${flow.name}`}
      confirmLabel="Roll back"
      busy={roll.isPending || version === null}
      error={roll.error ?? versions.error}
      onCancel={onClose}
      onConfirm={() =>
        version !== null &&
        roll.mutate(version, {
          onSuccess: (r) => {
            onDone({ version: r.version, from: version });
            onClose();
          },
        })
      }
    >
      {versions.isPending ? (
        <p className="muted">Loading versions…</p>
      ) : older.length === 0 ? (
        <p>There is no older version.</p>
      ) : (
        <Field label="Version" hint="It is published again as the newest version; calls in progress keep theirs.">
          {(p) => (
            <select {...p} value={version ?? ""} onChange={(e) => setChosen(Number(e.target.value))}>
              {older.map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version} · {formatWhen(v.published_at)} · {v.published_by}
                  {v.rolled_back_from ? ` (again v${v.rolled_back_from})` : ""}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
    </ConfirmDialog>
  );
}
