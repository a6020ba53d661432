import { memo, useMemo, useState } from "react";
import { useParams } from "react-router";
import type { ColumnDef, SortingState } from "@tanstack/react-table";
import { useLiveCalls } from "./queries";
import { ExportCallsButton } from "../../components/ExportCallsButton";
import { useStats } from "../dashboard/queries";
import { LIVE_STATUSES, type Call, type Provider, type Status } from "../../api/types";
import { CallTable } from "../../components/CallTable";
import { callerColumn, departmentColumn } from "../../components/columns";
import { CallDrawer } from "../calls/CallDrawer";
import { DepartmentTabs } from "../../components/DepartmentTabs";
import { ErrorBanner } from "../../components/ErrorBanner";
import { Page } from "../../components/Page";
import { StatusBadge } from "../../components/StatusBadge";
import { liveSeconds } from "../../lib/calls";
import { liveCount } from "../../lib/dashboard";
import { formatDuration, formatPhone, formatWhen, titleCase } from "../../lib/format";
import { currentSecond, useSecond } from "../../lib/useNow";
import { providerName, useVisibleProviders } from "../../lib/useVisibleProviders";
import { worstLevel } from "../thresholds/model";
import { useThresholdStates } from "../thresholds/queries";
import { ThresholdTiles } from "../thresholds/ThresholdTiles";
import { callKey } from "../../stream/apply";

const STATUS_ORDER: Record<string, number> = { waiting: 0, ringing: 1, active: 2, missed: 3 };
const DEFAULT_SORT: SortingState = [{ id: "status", desc: false }];

/** A running duration: this cell alone re-renders at each tick of the shared clock. */
function DurationCell({ call }: { call: Call }) {
  const now = useSecond();
  return <span data-testid="duration">{formatDuration(liveSeconds(call, now))}</span>;
}

export function LivePage() {
  const { department = "all" } = useParams();
  const providers = useVisibleProviders();
  const stats = useStats();
  const levels = useThresholdStates().data?.data;

  const title =
    department === "all" ? "IVR Live · All departments" : `IVR Live · ${providerName(providers, department)}`;

  return (
    <Page
      title={title}
      actions={
        <ExportCallsButton
          query={{ department: department === "all" ? undefined : department, status: "live" }}
          label="Download live calls (CSV)"
        />
      }
    >
      <DepartmentTabs
        base="/live"
        providers={providers}
        count={(slug) => liveCount(stats.data, slug)}
        level={(slug) => worstLevel(levels, slug, "live")}
      />
      <ThresholdTiles department={department} providers={providers} />
      <LiveQueue department={department} providers={providers} />
    </Page>
  );
}

/** The queue itself: its filters, count and table. The stream patches its
 * list many times a second; only this part of the screen renders again for
 * it (not the title bar, tabs and tiles around it). */
const LiveQueue = memo(function LiveQueue({ department, providers }: { department: string; providers: Provider[] }) {
  const live = useLiveCalls(department);
  const [status, setStatus] = useState<Status | "">("");
  const [search, setSearch] = useState("");
  const [sorting, setSorting] = useState<SortingState>(DEFAULT_SORT);
  // The selection is a call (its key), not a row number: rows move as calls
  // come and go. It belongs to the department it was made in.
  const [selection, setSelection] = useState<{ department: string; key: string } | null>(null);
  const selected = selection?.department === department ? selection.key : null;
  const [open, setOpen] = useState<Call | null>(null);

  const rows = useMemo(() => {
    const all = live.data ?? [];
    const q = search.trim().toLowerCase();
    // Unfiltered, the list goes to the table as it is (the table keeps its order between patches).
    if (!status && !q) return all;
    return all.filter(
      (c) =>
        (!status || c.status === status) &&
        (!q ||
          (c.mobile_number ?? "").toLowerCase().includes(q) ||
          (c.caller_name ?? "").toLowerCase().includes(q) ||
          (c.did ?? "").toLowerCase().includes(q) ||
          (c.agent_name ?? "").toLowerCase().includes(q) ||
          c.call_id.toLowerCase().includes(q)),
    );
  }, [live.data, status, search]);

  // Built again only when the department or the providers change: new cell
  // components would remount every cell on screen.
  const columns = useMemo<ColumnDef<Call, unknown>[]>(() => {
    const cols: ColumnDef<Call, unknown>[] = [
      callerColumn(240),
      {
        id: "did",
        header: "DID",
        accessorFn: (c) => c.did ?? "",
        // Numbers as stored (E.164): compared as strings, as cheap as it gets.
        sortingFn: "basic",
        cell: ({ getValue }) => formatPhone(getValue() as string) || "—",
      },
      {
        id: "status",
        header: "Status",
        accessorFn: (c) => STATUS_ORDER[c.status ?? ""] ?? 9,
        cell: ({ row }) => <StatusBadge status={row.original.status} />,
        size: 110,
      },
      {
        id: "agent",
        header: "Agent",
        // Names: TanStack's alphanumeric order ("Agent 2" before "Agent 10",
        // any case), from keys the table makes once per call.
        accessorFn: (c) => c.agent_name ?? c.agent_id ?? "",
        sortingFn: "alphanumeric",
        cell: ({ getValue }) => (getValue() as string) || "—",
      },
      {
        id: "started",
        header: "Started",
        accessorFn: (c) => c.started_at ?? c.created_at,
        // ISO times sort as strings.
        sortingFn: "basic",
        cell: ({ getValue }) => formatWhen(getValue() as string),
        size: 110,
      },
      {
        id: "duration",
        header: "Duration",
        accessorFn: (c) => liveSeconds(c, currentSecond()) ?? -1,
        meta: { ticking: true },
        cell: ({ row }) => <DurationCell call={row.original} />,
        size: 100,
      },
    ];
    if (department === "all") {
      cols.splice(2, 0, departmentColumn(providers, 150, true));
    }
    return cols;
  }, [department, providers]);

  return (
    <>
      <div className="row">
        <label htmlFor="live-status" style={{ flexDirection: "row", alignItems: "center" }}>
          Status
        </label>
        <select id="live-status" value={status} onChange={(e) => setStatus(e.target.value as Status | "")}>
          <option value="">All live</option>
          {LIVE_STATUSES.map((s) => (
            <option key={s} value={s}>
              {titleCase(s)}
            </option>
          ))}
        </select>
        <label style={{ flexDirection: "row", alignItems: "center" }} className="grow">
          <span>Search</span>
          <input
            type="search"
            className="grow"
            placeholder="Number, name, DID, agent or call id"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
        <span className="muted" data-testid="live-count">
          {rows.length} of {live.data?.length ?? 0} calls
        </span>
      </div>
      <ErrorBanner error={live.error} onRetry={() => void live.refetch()} />
      <CallTable
        // A department of its own: its own scroll position.
        key={department}
        calls={rows}
        columns={columns}
        label="Live calls"
        selected={selected}
        onSelect={(c) => setSelection({ department, key: callKey(c) })}
        onOpen={setOpen}
        sorting={sorting}
        onSortingChange={setSorting}
        empty={live.isPending ? "Loading calls…" : "No calls waiting, ringing or talking right now."}
      />
      {open && <CallDrawer department={open.department} callId={open.call_id} onClose={() => setOpen(null)} />}
    </>
  );
});
