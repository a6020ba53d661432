// Call history: every call the person may see, searchable by number, name,
// dates, department, status, agent and disposition; the filters live in the
// address bar. Repeat callers are flagged; a call opens in the drawer with
// the caller's previous calls.
import { useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import type { ColumnDef } from "@tanstack/react-table";
import { OUTCOMES, STATUSES, type Call, type Outcome, type Status } from "../../api/types";
import { CallDrawer } from "../calls/CallDrawer";
import { CallTable } from "../../components/CallTable";
import { departmentColumn } from "../../components/columns";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Field } from "../../components/Field";
import { Page } from "../../components/Page";
import { StatusBadge } from "../../components/StatusBadge";
import { formatDuration, formatPhone, formatWhen, titleCase } from "../../lib/format";
import { useVisibleProviders } from "../../lib/useVisibleProviders";
import type { Provider } from "../../api/types";
import { activeCount, EMPTY_FILTERS, readFilters, toQuery, writeFilters, type HistoryFilters } from "./filters";
import { useHistory } from "./queries";
import { callKey } from "../../stream/apply";
import "./history.css";

function FilterForm({
  initial,
  providers,
  onApply,
}: {
  initial: HistoryFilters;
  providers: Provider[];
  onApply: (f: HistoryFilters) => void;
}) {
  const [f, setF] = useState(initial);
  const set = (patch: Partial<HistoryFilters>) => setF((x) => ({ ...x, ...patch }));
  return (
    <form
      className="history-filters"
      role="search"
      aria-label="Filter calls"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(f);
      }}
    >
      <Field label="Number, name or call id" className="wide">
        {(p) => <input {...p} type="search" value={f.q} onChange={(e) => set({ q: e.target.value })} />}
      </Field>
      <Field label="From">
        {(p) => <input {...p} type="date" value={f.from} onChange={(e) => set({ from: e.target.value })} />}
      </Field>
      <Field label="To">
        {(p) => <input {...p} type="date" value={f.to} onChange={(e) => set({ to: e.target.value })} />}
      </Field>
      <Field label="Department">
        {(p) => (
          <select {...p} value={f.department} onChange={(e) => set({ department: e.target.value })}>
            <option value="">All departments</option>
            {providers.map((d) => (
              <option key={d.slug} value={d.slug}>
                {d.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Status">
        {(p) => (
          <select {...p} value={f.status} onChange={(e) => set({ status: e.target.value as Status | "" })}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {titleCase(s)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Agent">
        {(p) => <input {...p} value={f.agent} autoComplete="off" onChange={(e) => set({ agent: e.target.value })} />}
      </Field>
      <Field label="Disposition">
        {(p) => (
          <select {...p} value={f.outcome} onChange={(e) => set({ outcome: e.target.value as Outcome | "" })}>
            <option value="">Any disposition</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {titleCase(o)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="row">
        <button type="submit" className="primary">
          Search
        </button>
        <button type="button" onClick={() => onApply(EMPTY_FILTERS)}>
          Clear
        </button>
      </div>
    </form>
  );
}

export default function HistoryPage() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => readFilters(params), [params]);
  const providers = useVisibleProviders();
  const list = useHistory(toQuery(filters));
  const [selected, setSelected] = useState<string | null>(null);
  const [open, setOpen] = useState<Call | null>(null);
  const calls = useMemo(() => list.data?.pages.flatMap((p) => p.data) ?? [], [list.data]);
  const repeat = useMemo(() => new Set(list.data?.pages.flatMap((p) => p.repeat_callers) ?? []), [list.data]);
  const total = list.data?.pages[list.data.pages.length - 1]?.total;

  const columns = useMemo<ColumnDef<Call, unknown>[]>(() => {
    const cols: ColumnDef<Call, unknown>[] = [
      {
        id: "caller",
        header: "Caller",
        cell: ({ row }) => {
          const c = row.original;
          return (
            <span title={c.call_id}>
              <strong>{formatPhone(c.mobile_number)}</strong>
              {c.caller_name && <span className="muted"> · {c.caller_name}</span>}
              {c.mobile_number && repeat.has(c.mobile_number) && (
                <span className="badge repeat" data-testid="repeat-caller" title="This number called more than once">
                  Repeat
                </span>
              )}
            </span>
          );
        },
        size: 330,
      },
      departmentColumn(providers, 130, false),
      {
        id: "status",
        header: "Status",
        cell: ({ row }) => <StatusBadge status={row.original.status} />,
        size: 100,
      },
      {
        id: "when",
        header: "Started",
        cell: ({ row }) => formatWhen(row.original.started_at ?? row.original.created_at),
        size: 130,
      },
      {
        id: "duration",
        header: "Duration",
        cell: ({ row }) => formatDuration(row.original.duration_seconds),
        size: 90,
      },
      {
        id: "agent",
        header: "Agent",
        cell: ({ row }) => row.original.agent_name ?? row.original.agent_id ?? "—",
      },
      {
        id: "outcome",
        header: "Disposition",
        cell: ({ row }) => (row.original.last_outcome ? titleCase(row.original.last_outcome) : "—"),
      },
    ];
    // Newest first, as the server sorts: no column sorts a partial page.
    return cols.map((c) => ({ ...c, enableSorting: false }));
  }, [providers, repeat]);

  const apply = (f: HistoryFilters) => {
    setParams(writeFilters(params, f));
    setSelected(null);
  };
  const n = activeCount(filters);

  return (
    <Page title="Call history">
      <FilterForm key={params.toString()} initial={filters} providers={providers} onApply={apply} />
      <div className="row">
        <span className="muted grow" data-testid="history-count" role="status">
          {total === undefined
            ? ""
            : `${total} ${total === 1 ? "call" : "calls"}${n ? ` matching ${n} ${n === 1 ? "filter" : "filters"}` : ""} · ${calls.length} shown, newest first`}
        </span>
      </div>
      <ErrorBanner error={list.error} onRetry={() => void list.refetch()} />
      <div style={{ display: "flex", flex: 1, minHeight: 0 }}>
        <CallTable
          // Other filters are another list: it starts at its top.
          key={params.toString()}
          calls={calls}
          columns={columns}
          label="Call history"
          selected={selected}
          onSelect={(c) => setSelected(callKey(c))}
          onOpen={setOpen}
          empty={list.isPending ? "Loading calls…" : "No call matches these filters."}
        />
      </div>
      {list.hasNextPage && (
        <div className="row">
          <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
            {list.isFetchingNextPage ? "Loading…" : "Show more"}
          </button>
        </div>
      )}
      {open && <CallDrawer department={open.department} callId={open.call_id} onClose={() => setOpen(null)} />}
    </Page>
  );
}
