import { useMemo, useState } from "react";
import { useParams } from "react-router";
import type { ColumnDef } from "@tanstack/react-table";
import { useLiveCalls } from "./queries";
import { ExportCallsButton } from "../../components/ExportCallsButton";
import { useStats } from "../dashboard/queries";
import { LIVE_STATUSES, type Call, type Status } from "../../api/types";
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
import { useNow } from "../../lib/useNow";
import { providerName, useVisibleProviders } from "../../lib/useVisibleProviders";
import { worstLevel } from "../thresholds/model";
import { useThresholdStates } from "../thresholds/queries";
import { ThresholdTiles } from "../thresholds/ThresholdTiles";

const STATUS_ORDER: Record<string, number> = { waiting: 0, ringing: 1, active: 2, missed: 3 };

export function LivePage() {
  const { department = "all" } = useParams();
  const providers = useVisibleProviders();
  const live = useLiveCalls(department);
  const stats = useStats();
  const levels = useThresholdStates().data?.data;
  const now = useNow(1000);
  const [status, setStatus] = useState<Status | "">("");
  const [search, setSearch] = useState("");
  const [selected, setSelected] = useState(0);
  const [open, setOpen] = useState<Call | null>(null);

  const rows = useMemo(() => {
    const q = search.trim().toLowerCase();
    return (live.data ?? []).filter(
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

  const columns = useMemo<ColumnDef<Call, unknown>[]>(() => {
    const cols: ColumnDef<Call, unknown>[] = [
      callerColumn(240),
      {
        id: "did",
        header: "DID",
        accessorFn: (c) => c.did ?? "",
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
        accessorFn: (c) => c.agent_name ?? c.agent_id ?? "",
        cell: ({ getValue }) => (getValue() as string) || "—",
      },
      {
        id: "started",
        header: "Started",
        accessorFn: (c) => c.started_at ?? c.created_at,
        cell: ({ getValue }) => formatWhen(getValue() as string),
        size: 110,
      },
      {
        id: "duration",
        header: "Duration",
        accessorFn: (c) => liveSeconds(c, now) ?? -1,
        cell: ({ row }) => <span data-testid="duration">{formatDuration(liveSeconds(row.original, now))}</span>,
        size: 100,
      },
    ];
    if (department === "all") {
      cols.splice(2, 0, departmentColumn(providers, 150, true));
    }
    return cols;
  }, [department, providers, now]);

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
        calls={rows}
        columns={columns}
        label="Live calls"
        selected={selected}
        onSelect={setSelected}
        onOpen={setOpen}
        initialSort={[{ id: "status", desc: false }]}
        empty={live.isPending ? "Loading calls…" : "No calls waiting, ringing or talking right now."}
      />
      {open && <CallDrawer department={open.department} callId={open.call_id} onClose={() => setOpen(null)} />}
    </Page>
  );
}
