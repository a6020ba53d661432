// The audit log, newest first, a page at a time (`before` the oldest seen).
import { useInfiniteQuery } from "@tanstack/react-query";
import { client, unwrap } from "../../api/client";

const PAGE = 50;

/** The filters as the form holds them (dates as `YYYY-MM-DD`, local). */
export interface AuditFilters {
  actor: string;
  action: string;
  entity: string;
  from: string;
  to: string;
}

/** A date input's day as the start of that local day, RFC 3339. */
function dayStart(d: string, plusDays = 0): string | undefined {
  if (!d) return undefined;
  const t = new Date(`${d}T00:00:00`);
  t.setDate(t.getDate() + plusDays);
  return t.toISOString();
}

export function useAuditLog(filters: AuditFilters) {
  return useInfiniteQuery({
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
}
