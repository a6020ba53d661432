// The server reads the console shares, with their query keys in one place so
// the stream applier (stream/apply.ts) and the screens agree on them.
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { client, unwrap } from "./client";
import type { operations } from "./schema";
import type { Call, WorkState } from "./types";
import { usePollWhileOffline } from "../stream/StreamProvider";

export function useProviders(includeInactive = false) {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: ["providers", { includeInactive }],
    queryFn: ({ signal }) =>
      unwrap(
        client().GET("/api/providers", {
          params: { query: { include_inactive: includeInactive || undefined } },
          signal,
        }),
      ),
    refetchInterval: poll,
  });
}

export function useStats() {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: ["stats"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/stats", { signal })),
    refetchInterval: poll,
  });
}

export function useCategories(department?: string) {
  return useQuery({
    queryKey: ["categories", department ?? "all"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/categories", { params: { query: { department } }, signal })),
  });
}

export function useUsers(enabled = true) {
  return useQuery({
    queryKey: ["users"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/users", { signal })),
    enabled,
  });
}

const PAGE = 1000;
/** Most rows the live queue holds; the table virtualises them. */
export const LIVE_LIMIT = 20_000;

type CallsQuery = NonNullable<operations["listCalls"]["parameters"]["query"]>;

async function allPages(query: CallsQuery, signal: AbortSignal): Promise<Call[]> {
  const out: Call[] = [];
  for (let offset = 0; offset < LIVE_LIMIT; offset += PAGE) {
    const page = await unwrap(
      client().GET("/api/calls", { params: { query: { ...query, limit: PAGE, offset } }, signal }),
    );
    out.push(...page.data);
    if (page.data.length < PAGE || out.length >= page.total) break;
  }
  return out;
}

/** Calls waiting, ringing or talking, and missed calls nobody has taken. */
export function useLiveCalls(department: string) {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: ["live", department],
    queryFn: async ({ signal }) => {
      const dept = department === "all" ? undefined : department;
      const [live, missed] = await Promise.all([
        allPages({ department: dept, status: "waiting,ringing,active" }, signal),
        allPages({ department: dept, status: "missed", view: "pending" }, signal),
      ]);
      return [...live, ...missed];
    },
    refetchInterval: poll,
  });
}

export interface WorklistQuery {
  department: string;
  view: WorkState;
  q: string;
  sort: string;
}

/** Rows per worklist page; more pages load on demand ("Show more"). */
export const WORKLIST_PAGE = 500;

export function useWorklist(w: WorklistQuery) {
  const poll = usePollWhileOffline();
  return useInfiniteQuery({
    queryKey: ["worklist", w],
    queryFn: ({ signal, pageParam }) =>
      unwrap(
        client().GET("/api/calls", {
          params: {
            query: {
              department: w.department === "all" ? undefined : w.department,
              status: "worklist",
              view: w.view,
              q: w.q || undefined,
              sort: w.sort,
              limit: WORKLIST_PAGE,
              offset: pageParam,
            },
          },
          signal,
        }),
      ),
    initialPageParam: 0,
    getNextPageParam: (last) =>
      last.offset + last.data.length < last.total ? last.offset + last.data.length : undefined,
    refetchInterval: poll,
    placeholderData: (prev) => prev,
  });
}

export function useCallDetail(department: string, callId: string | null) {
  return useQuery({
    queryKey: ["call", department, callId],
    queryFn: ({ signal }) =>
      unwrap(
        client().GET("/api/calls/{call_id}", {
          params: { path: { call_id: callId ?? "" }, query: { department } },
          signal,
        }),
      ),
    enabled: callId !== null,
  });
}

export interface MetricsFilter {
  from: string;
  to: string;
  department?: string;
  interval: "hour" | "day";
  utcOffsetMinutes: number;
  /** The browser's IANA zone: buckets follow it across a change of clocks. */
  timeZone?: string;
}

/** The range the query is enabled for (React Query runs it only then). */
function need(f: MetricsFilter | null): MetricsFilter {
  if (!f) throw new Error("choose a date range");
  return f;
}

/** The supervisor metrics of a range (formulas: docs/METRICS.md). */
export function useMetrics(f: MetricsFilter | null) {
  return useQuery({
    queryKey: ["metrics", f],
    queryFn: ({ signal }) => {
      const { from, to, department, interval, utcOffsetMinutes, timeZone } = need(f);
      return unwrap(
        client().GET("/api/metrics", {
          params: {
            query: { from, to, department, interval, utc_offset_minutes: utcOffsetMinutes, tz: timeZone },
          },
          signal,
        }),
      );
    },
    enabled: f !== null,
  });
}

/** Per agent: calls handled, AHT, dispositions by category, callback success. */
export function useAgentMetrics(f: MetricsFilter | null) {
  return useQuery({
    queryKey: ["metrics-agents", f],
    queryFn: ({ signal }) => {
      const { from, to, department } = need(f);
      return unwrap(client().GET("/api/metrics/agents", { params: { query: { from, to, department } }, signal }));
    },
    enabled: f !== null,
  });
}

/** Calls grouped by the agent the platform names (`GET /api/agents/calls`). */
export function useAgentCalls(f: MetricsFilter | null) {
  return useQuery({
    queryKey: ["agents-calls", f],
    queryFn: ({ signal }) => {
      const { from, to, department } = need(f);
      return unwrap(
        client().GET("/api/agents/calls", { params: { query: { from, to, department, limit: 1000 } }, signal }),
      );
    },
    enabled: f !== null,
  });
}

/** Users' states; agents get only their own row. */
export function useAgents(enabled = true) {
  const poll = usePollWhileOffline();
  return useQuery({
    queryKey: ["agents"],
    queryFn: ({ signal }) => unwrap(client().GET("/api/agents", { signal })),
    refetchInterval: poll,
    enabled,
  });
}
