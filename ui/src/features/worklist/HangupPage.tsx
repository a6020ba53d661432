import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { useParams, useSearchParams } from "react-router";
import type { ColumnDef, SortingState } from "@tanstack/react-table";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { keys } from "../../api/keys";
import { assignCall, unassignCall } from "../calls/queries";
import { useStats } from "../dashboard/queries";
import { useUsers } from "../users/queries";
import { useWorklist } from "./queries";
import { ExportCallsButton } from "../../components/ExportCallsButton";
import { WORK_STATES, type Call, type WorkState } from "../../api/types";
import { CallDrawer } from "../calls/CallDrawer";
import { CallTable } from "../../components/CallTable";
import { callerColumn, departmentColumn } from "../../components/columns";
import { DepartmentTabs } from "../../components/DepartmentTabs";
import { ErrorBanner } from "../../components/ErrorBanner";
import { HelpOverlay } from "../../components/HelpOverlay";
import { Page } from "../../components/Page";
import { StatusBadge } from "../../components/StatusBadge";
import { pendingCount } from "../../lib/dashboard";
import { formatPhone, formatWhen, slaText, titleCase } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { providerName, useVisibleProviders } from "../../lib/useVisibleProviders";
import { useSession } from "../../session";
import { selectedIndex, withHeld, type Held } from "../../lib/heldRow";
import { callKey } from "../../stream/apply";

/** A user id, `null` for "me", `"none"` to unassign. */
type Assignee = number | null | "none";

interface Done {
  key: string;
  text: string;
  /** What Undo restores: the assignee before the action. */
  undo: Assignee;
  call: Call;
}

function doneText(userId: Assignee, c: Call): string {
  if (userId === null) return "Assigned to you";
  if (userId === "none") return "Unassigned";
  return `Assigned to ${c.assignee_name ?? "the agent"}`;
}

const SORT_COLUMNS: Record<string, string> = {
  since: "worklist_since",
  sla: "sla_due_at",
  attempts: "attempts",
  caller: "mobile_number",
  callback: "next_callback_at",
};

export function HangupPage() {
  const { department = "all" } = useParams();
  const [params, setParams] = useSearchParams();
  const view = (WORK_STATES as readonly string[]).includes(params.get("view") ?? "")
    ? (params.get("view") as WorkState)
    : "pending";
  const setView = (v: WorkState) => {
    const next = new URLSearchParams(params);
    next.set("view", v);
    setParams(next, { replace: true });
    resetSelection();
  };
  const { me } = useSession();
  const supervisor = me?.role === "admin" || me?.role === "supervisor";
  const providers = useVisibleProviders();
  const stats = useStats();
  const users = useUsers(supervisor);
  const qc = useQueryClient();
  const tick = useNow(30_000);
  const [search, setSearch] = useState("");
  const [sorting, setSorting] = useState<SortingState>([{ id: "sla", desc: false }]);
  // The selection is a call, not a row number: rows move as the list changes.
  const [selectedKey, setSelectedKey] = useState<string | null>(null);
  const [lastIndex, setLastIndex] = useState(0);
  const [held, setHeld] = useState<Held | null>(null);
  const [done, setDone] = useState<Done | null>(null);
  const [open, setOpen] = useState<{ call: Call; disposition: boolean; callback?: boolean } | null>(null);
  const [help, setHelp] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  const gridWrap = useRef<HTMLDivElement>(null);

  const first = sorting[0];
  const sort = first ? `${first.desc ? "-" : ""}${SORT_COLUMNS[first.id] ?? "worklist_since"}` : "-worklist_since";
  const list = useWorklist({ department, view, q: search.trim(), sort });
  // The clock ticks every 30 s; rows fetched since are judged at least as of their fetch.
  const now = Math.max(tick, list.dataUpdatedAt);
  const listed = useMemo(() => list.data?.pages.flatMap((p) => p.data) ?? [], [list.data]);
  const calls = useMemo(() => withHeld(listed, held), [listed, held]);
  const matching = list.data?.pages[list.data.pages.length - 1]?.total;
  const selected = selectedIndex(calls, selectedKey, lastIndex);
  const current = calls[selected];

  function select(i: number) {
    const c = calls[i];
    setLastIndex(i);
    setSelectedKey(c ? callKey(c) : null);
    if (held && (!c || callKey(c) !== callKey(held.call))) {
      setHeld(null);
      setDone(null);
    }
  }
  function resetSelection() {
    setSelectedKey(null);
    setLastIndex(0);
    setHeld(null);
    setDone(null);
  }

  const counts = useMemo(() => {
    const w = stats.data?.worklist ?? {};
    const pick = (d?: string) => {
      const rows = d ? [w[d]] : Object.values(w);
      const out: Record<WorkState, number> = { pending: 0, assigned: 0, attempted: 0, resolved: 0 };
      for (const r of rows) if (r) for (const s of WORK_STATES) out[s] += r[s];
      return out;
    };
    return pick(department === "all" ? undefined : department);
  }, [stats.data, department]);
  const total = WORK_STATES.reduce((n, s) => n + counts[s], 0);

  const assign = useMutation({
    mutationFn: ({ call, userId }: { call: Call; userId: Assignee; undo?: boolean }) =>
      userId === "none"
        ? unassignCall(call.call_id, call.department)
        : assignCall(call.call_id, call.department, userId === null ? {} : { user_id: userId }),
    onSuccess: (updated, { call, userId, undo }) => {
      // The acted-on call stays where it was, selected, even when it left this view.
      const i = calls.findIndex((c) => callKey(c) === callKey(call));
      setHeld({ call: updated, index: i >= 0 ? i : selected });
      setSelectedKey(callKey(updated));
      setDone(
        undo
          ? null
          : {
              key: callKey(updated),
              text: doneText(userId, updated),
              undo: call.assignee_id ?? "none",
              call: updated,
            },
      );
      void qc.invalidateQueries({ queryKey: keys.worklist });
      void qc.invalidateQueries({ queryKey: keys.stats });
    },
  });

  // `?call=<id>` (a clicked desktop notification) opens that call once it is
  // listed: adjusted during render, so the drawer opens with the list.
  const wanted = params.get("call");
  const [opened, setOpened] = useState<string | null>(null);
  if (wanted && wanted !== opened) {
    const i = calls.findIndex((c) => c.call_id === wanted);
    const call = calls[i];
    if (call) {
      setOpened(wanted);
      setSelectedKey(callKey(call));
      setLastIndex(i);
      setOpen({ call, disposition: false });
    }
  }

  // Page-level keys work wherever focus is, except while typing.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
      if (open || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "?") {
        e.preventDefault();
        setHelp(true);
      } else if (e.key === "/") {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (["1", "2", "3", "4"].includes(e.key)) {
        const v = WORK_STATES[Number(e.key) - 1];
        if (v) setView(v);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  const onKey = (e: KeyboardEvent, c: Call | undefined): boolean => {
    if (!c || e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === "a") {
      assign.mutate({ call: c, userId: null });
      return true;
    }
    if (e.key === "u") {
      assign.mutate({ call: c, userId: "none" });
      return true;
    }
    if (e.key === "d") {
      setOpen({ call: c, disposition: true });
      return true;
    }
    return false;
  };

  const columns = useMemo<ColumnDef<Call, unknown>[]>(() => {
    const cols: ColumnDef<Call, unknown>[] = [
      callerColumn(210),
      { id: "did", header: "DID", accessorFn: (c) => formatPhone(c.did), enableSorting: false, size: 130 },
      {
        id: "status",
        header: "Status",
        cell: ({ row }) => <StatusBadge status={row.original.status} />,
        enableSorting: false,
        size: 96,
      },
      {
        id: "since",
        header: "Since",
        accessorFn: (c) => c.worklist_since,
        cell: ({ row }) => formatWhen(row.original.worklist_since),
        size: 100,
      },
      { id: "attempts", header: "Attempts", accessorFn: (c) => c.attempts, size: 84 },
      {
        id: "outcome",
        header: "Last outcome",
        accessorFn: (c) => (c.last_outcome ? titleCase(c.last_outcome) : "—"),
        enableSorting: false,
      },
      { id: "assignee", header: "Assigned to", accessorFn: (c) => c.assignee_name ?? "—", enableSorting: false },
      {
        id: "sla",
        header: "Callback SLA",
        accessorFn: (c) => c.sla_due_at,
        cell: ({ row }) => {
          const c = row.original;
          if (c.work_state === "resolved") return <span className="muted">Resolved {formatWhen(c.resolved_at)}</span>;
          const s = slaText(c.sla_due_at, now);
          if (!s) return "—";
          return (
            <span className={s.breached ? "sla-breach" : ""} data-testid={s.breached ? "sla-breached" : undefined}>
              {s.breached ? "⚠ " : ""}
              {s.text}
            </span>
          );
        },
        size: 140,
      },
      {
        id: "callback",
        header: "Call back at",
        accessorFn: (c) => c.next_callback_at,
        cell: ({ row }) => formatWhen(row.original.next_callback_at),
        size: 110,
      },
    ];
    if (department === "all") {
      cols.splice(2, 0, departmentColumn(providers, 120, false));
    }
    return cols;
  }, [department, providers, now]);

  const title =
    department === "all" ? "IVR Hangup · All departments" : `IVR Hangup · ${providerName(providers, department)}`;
  const agents = (users.data?.data ?? []).filter(
    (u) => u.active && (department === "all" || u.role !== "agent" || u.departments.includes(department)),
  );

  return (
    <Page
      title={title}
      actions={
        <>
          <ExportCallsButton
            query={{
              department: department === "all" ? undefined : department,
              status: "worklist",
              view,
              q: search.trim() || undefined,
            }}
            label="Download this view (CSV)"
          />
          <button onClick={() => setHelp(true)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
            ?
          </button>
        </>
      }
    >
      <DepartmentTabs base="/hangup" providers={providers} count={(slug) => pendingCount(stats.data, slug)} />
      <div className="row">
        <div className="row" role="tablist" aria-label="Worklist views">
          {WORK_STATES.map((v, i) => (
            <button
              key={v}
              role="tab"
              aria-selected={view === v}
              className={view === v ? "primary" : ""}
              onClick={() => setView(v)}
              title={`${titleCase(v)} (${i + 1})`}
              data-testid={`view-${v}`}
            >
              {titleCase(v)} <span className="badge">{counts[v]}</span>
            </button>
          ))}
        </div>
        <span className="muted" data-testid="worklist-total">
          Total {total}
        </span>
        <label className="grow" style={{ flexDirection: "row", alignItems: "center" }}>
          <span>Search</span>
          <input
            ref={searchRef}
            type="search"
            className="grow"
            placeholder="Number, name or call id  ( / )"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              resetSelection();
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter" || e.key === "Escape")
                gridWrap.current?.querySelector<HTMLElement>("[data-testid=grid]")?.focus();
            }}
          />
        </label>
      </div>
      <div className="row">
        <button
          disabled={!current || assign.isPending}
          onClick={() => current && assign.mutate({ call: current, userId: null })}
        >
          Assign to me <span className="kbd">a</span>
        </button>
        {supervisor && (
          <>
            <label htmlFor="assign-to">Assign to</label>
            <select
              id="assign-to"
              disabled={!current || assign.isPending}
              value=""
              onChange={(e) => {
                const v = e.target.value;
                if (current && v) assign.mutate({ call: current, userId: v === "none" ? "none" : Number(v) });
              }}
            >
              <option value="">Choose an agent…</option>
              <option value="none">Nobody (unassign)</option>
              {agents.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.display_name || u.username} ({u.role})
                </option>
              ))}
            </select>
          </>
        )}
        <button
          disabled={!current}
          onClick={() => current && setOpen({ call: current, disposition: false, callback: true })}
          data-testid="worklist-call-back"
        >
          Call back
        </button>
        <button disabled={!current} onClick={() => current && setOpen({ call: current, disposition: true })}>
          Disposition <span className="kbd">d</span>
        </button>
        <button disabled={!current} onClick={() => current && setOpen({ call: current, disposition: false })}>
          Details <span className="kbd">Enter</span>
        </button>
        <span className="muted grow" style={{ textAlign: "right" }}>
          <span data-testid="worklist-shown">
            {matching !== undefined ? `${calls.length} of ${matching} shown` : ""}
          </span>
        </span>
      </div>
      {done && (
        <div className="banner done row" role="status" data-testid="assign-done">
          <span>{done.text}</span>
          <span aria-hidden="true">·</span>
          <button
            type="button"
            disabled={assign.isPending}
            onClick={() => assign.mutate({ call: done.call, userId: done.undo, undo: true })}
          >
            Undo
          </button>
        </div>
      )}
      <ErrorBanner error={assign.error ?? list.error} onRetry={list.error ? () => void list.refetch() : undefined} />
      <div ref={gridWrap} style={{ display: "flex", flex: 1, minHeight: 0 }}>
        <CallTable
          // Another department or view is another list: it starts at its top.
          key={`${department}/${view}`}
          calls={calls}
          columns={columns}
          label={`${titleCase(view)} callbacks`}
          // Nothing chosen: the first row, as the table puts it.
          selected={selectedKey !== null && current ? callKey(current) : null}
          onSelect={(_c, i) => select(i)}
          onOpen={(c) => setOpen({ call: c, disposition: false })}
          onKey={onKey}
          manualSorting
          sorting={sorting}
          onSortingChange={(next) => {
            // A new order: the held call goes back to where the server puts it.
            setSorting(next);
            setHeld(null);
            setDone(null);
          }}
          empty={list.isPending ? "Loading…" : `No ${view} calls.`}
        />
      </div>
      {list.hasNextPage && (
        <div className="row">
          <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
            {list.isFetchingNextPage ? "Loading…" : "Show more"}
          </button>
        </div>
      )}
      {open && (
        <CallDrawer
          department={open.call.department}
          callId={open.call.call_id}
          disposition={open.disposition}
          callback={open.callback}
          onClose={() => setOpen(null)}
        />
      )}
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
    </Page>
  );
}
