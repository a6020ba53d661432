// The analytics screen's reads: the supervisor metrics of a range (formulas:
// docs/METRICS.md), per-agent figures and calls grouped by agent.
import { useQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";

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
