// Masters › Audit: who changed what and when (providers, keys, users,
// categories, retention), filtered by actor, action, entity and dates,
// newest first, older pages on demand.
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { client, unwrap } from "../../api/client";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { Page } from "../../components/Page";
import { formatWhen } from "../../lib/format";

const ENTITIES = ["", "provider", "user", "category", "retention", "connector", "dialpad", "export"];
const PAGE = 50;

interface Filters {
  actor: string;
  action: string;
  entity: string;
  from: string;
  to: string;
}

const EMPTY: Filters = { actor: "", action: "", entity: "", from: "", to: "" };

/** A date input's day as the start of that local day, RFC 3339. */
function dayStart(d: string, plusDays = 0): string | undefined {
  if (!d) return undefined;
  const t = new Date(`${d}T00:00:00`);
  t.setDate(t.getDate() + plusDays);
  return t.toISOString();
}

export default function AuditPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const q = useInfiniteQuery({
    queryKey: ["audit", filters],
    queryFn: ({ signal, pageParam }) =>
      unwrap(
        client().GET("/api/audit", {
          params: {
            query: {
              actor: filters.actor.trim() || undefined,
              action: filters.action.trim() || undefined,
              entity: filters.entity || undefined,
              from: dayStart(filters.from),
              to: dayStart(filters.to, 1),
              before: pageParam ?? undefined,
              limit: PAGE,
            },
          },
          signal,
        }),
      ),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next_before ?? undefined,
  });
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  const set = (k: keyof Filters) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));
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
