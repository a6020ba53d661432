// Masters › Audit: who changed what and when (providers, keys, users,
// categories, retention), filtered by actor, action, entity and dates,
// newest first, older pages on demand.
import { useState, type FormEvent } from "react";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { Page } from "../../components/Page";
import { formatWhen } from "../../lib/format";
import { useAuditLog, type AuditFilters } from "./queries";

const ENTITIES = ["", "provider", "user", "category", "retention", "connector", "dialpad", "export"];
const EMPTY: AuditFilters = { actor: "", action: "", entity: "", from: "", to: "" };

export default function AuditPage() {
  const [draft, setDraft] = useState<AuditFilters>(EMPTY);
  const [filters, setFilters] = useState<AuditFilters>(EMPTY);
  const q = useAuditLog(filters);
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const set = (k: keyof AuditFilters) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));
  return (
    <Page title="Audit log">
      <form className="row wrap audit-filters" onSubmit={onSubmit} aria-label="Audit filters">
        <Field label="Actor">
          {(p) => <input {...p} value={draft.actor} onChange={(e) => set("actor")(e.target.value)} />}
        </Field>
        <Field label="Action">
          {(p) => (
            <input
              {...p}
              value={draft.action}
              placeholder="e.g. provider.update"
              onChange={(e) => set("action")(e.target.value)}
            />
          )}
        </Field>
        <Field label="Entity">
          {(p) => (
            <select {...p} value={draft.entity} onChange={(e) => set("entity")(e.target.value)}>
              {ENTITIES.map((x) => (
                <option key={x} value={x}>
                  {x || "Any"}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="From">
          {(p) => <input {...p} type="date" value={draft.from} onChange={(e) => set("from")(e.target.value)} />}
        </Field>
        <Field label="To">
          {(p) => <input {...p} type="date" value={draft.to} onChange={(e) => set("to")(e.target.value)} />}
        </Field>
        <div className="row">
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorBanner error={q.error} onRetry={() => void q.refetch()} />
      {q.isPending ? (
        <p className="muted">Loading the audit log…</p>
      ) : rows.length === 0 ? (
        <p className="muted">No entries match these filters.</p>
      ) : (
        <table className="plain" data-testid="audit-table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">What changed</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id} data-action={e.action}>
                <td title={e.at}>{formatWhen(e.at)}</td>
                <td>{e.actor}</td>
                <td className="mono">{e.action}</td>
                <td>{e.target ?? "—"}</td>
                <td>
                  <code className="audit-details">{JSON.stringify(e.details)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {q.hasNextPage && (
        <button type="button" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          {q.isFetchingNextPage ? "Loading…" : "Older entries"}
        </button>
      )}
    </Page>
  );
}
